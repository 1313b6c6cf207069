"""Reading the published checkpoint layouts, strictly, and converting training pickles."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from f5_tts.errors import CheckpointError, VocabSizeError

HF_SCHEME = "hf://"
EMA_PREFIX = "ema_model."
# EMA bookkeeping and legacy mel buffers: present in published files, not model weights.
IGNORED_KEYS = frozenset({"initted", "step", "mel_spec.mel_stft.mel_scale.fb", "mel_spec.mel_stft.spectrogram.window"})
TEXT_EMBED_KEY = "transformer.text_embed.text_embed.weight"


def resolve_path(path_or_uri: str | os.PathLike) -> Path:
    """A local path, or `hf://owner/repo/path/in/repo` fetched (and cached) with huggingface_hub."""
    text = os.fspath(path_or_uri)
    if not text.startswith(HF_SCHEME):
        path = Path(text).expanduser()
        if not path.is_file():
            raise CheckpointError(f"file not found: {path}")
        return path
    parts = text[len(HF_SCHEME) :].split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise CheckpointError(f"hub paths look like hf://owner/repo/file, got {text!r}")
    owner, repo, filename = parts
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id=f"{owner}/{repo}", filename=filename))
    except Exception as exc:  # network, auth, missing file: all mean "cannot get the weights"
        raise CheckpointError(f"could not download {text}: {type(exc).__name__}: {exc}") from exc


def read_checkpoint(path_or_uri: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The EMA weights of a checkpoint, keys without the `ema_model.` prefix or bookkeeping.

    Training pickles are memory-mapped, so the 5.4 GB file is never held twice in memory.
    """
    path = resolve_path(path_or_uri)
    raw = _read_safetensors(path) if path.suffix == ".safetensors" else _read_pickle(path)
    return _normalise_keys(raw, path)


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name} is not a readable safetensors file: {exc}") from exc


def _read_pickle(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path.name} is not a PyTorch checkpoint: {exc}") from exc
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path.name} holds a {type(obj).__name__}, not a checkpoint dict")
    if "ema_model_state_dict" in obj:
        obj = obj["ema_model_state_dict"]
    elif "model_state_dict" in obj:
        obj = obj["model_state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path.name} has no state dict: expected 'ema_model_state_dict' or a dict of tensors")
    return obj


def _normalise_keys(raw: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for key, value in raw.items():
        name = key[len(EMA_PREFIX) :] if key.startswith(EMA_PREFIX) else key
        if name in IGNORED_KEYS:
            continue
        out[name] = value
    if not out:
        raise CheckpointError(f"{path.name} contains no model weights")
    return out


def load_into(model: nn.Module, state: dict[str, torch.Tensor], vocab_size: int) -> None:
    """Strictly load `state` into `model` (which may live on the meta device), naming any problem."""
    rows = state.get(TEXT_EMBED_KEY)
    if rows is not None and rows.shape[0] != vocab_size + 1:
        raise VocabSizeError(
            f"the checkpoint's text embedding has {rows.shape[0]} rows, so it expects a vocab of "
            f"{rows.shape[0] - 1} lines, but the vocab file has {vocab_size}: use the vocab that came "
            "with the checkpoint"
        )
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            "checkpoint does not match the architecture: "
            + "; ".join(
                f"{label} {len(keys)} keys (e.g. {', '.join(keys[:3])})"
                for label, keys in (("missing", missing), ("unexpected", unexpected))
                if keys
            )
            + " (wrong --arch?)"
        )
    wrong = [k for k, v in state.items() if tuple(v.shape) != tuple(expected[k].shape)]
    if wrong:
        k = wrong[0]
        raise CheckpointError(
            f"{len(wrong)} tensors have the wrong shape for this architecture, e.g. {k}: "
            f"file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)} (wrong --arch?)"
        )
    model.load_state_dict(state, strict=True, assign=True)


def convert_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, dtype: torch.dtype | None = None) -> Path:
    """Keep only the EMA weights of a checkpoint, in the published safetensors layout."""
    from safetensors.torch import save_file

    state = read_checkpoint(src)
    tensors = {}
    for name, value in state.items():
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        tensors[EMA_PREFIX + name] = value.contiguous()
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(dst))
    return dst
