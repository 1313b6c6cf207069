"""Building models: from published checkpoints, or the tiny deterministic demo."""

from __future__ import annotations

import os
import unicodedata
from typing import Any

import torch

from f5_tts.checkpoint import load_into, read_checkpoint, resolve_path
from f5_tts.config import DiTConfig, resolve_arch
from f5_tts.device import pick_device, pick_dtype
from f5_tts.errors import VocabSizeError
from f5_tts.mel import MelSpectrogram
from f5_tts.model import F5Model
from f5_tts.text import Vocab


def load_vocab(vocab: str | os.PathLike | Vocab) -> Vocab:
    if isinstance(vocab, Vocab):
        return vocab
    path = resolve_path(vocab)
    try:
        return Vocab.from_file(path)
    except UnicodeDecodeError as exc:
        raise VocabSizeError(f"vocab file {path.name} is not UTF-8 text") from exc


def load_model(
    ckpt: str | os.PathLike,
    vocab: str | os.PathLike | Vocab,
    *,
    arch: str | dict[str, Any] | DiTConfig = "F5TTS_Base",
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
) -> F5Model:
    """Load a published checkpoint strictly into a fresh model on `device`."""
    _, cfg = resolve_arch(arch)
    vocab = load_vocab(vocab)
    state = read_checkpoint(ckpt)
    mel_spec = MelSpectrogram()  # computed buffers, not weights: built for real
    # The DiT is built on the meta device: no time spent on random init, no second copy of the weights.
    with torch.device("meta"):
        model = F5Model(cfg, vocab, mel_spec=mel_spec)
    load_into(model, state, len(vocab))
    device = pick_device(device)
    return model.to(device=device, dtype=pick_dtype(device, dtype)).eval()


# Vietnamese letters: 12 vowels x (no mark + 5 tones), plus đ.
_VI_VOWELS = "aăâeêioôơuưy"
_VI_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")


def demo_vocab() -> Vocab:
    letters = {unicodedata.normalize("NFC", v + tone) for v in _VI_VOWELS for tone in _VI_TONES} | {"đ"}
    ascii_chars = "abcdefghijklmnopqrstuvwxyz0123456789.,!?;:'\"-()"
    return Vocab([" ", *ascii_chars, *sorted(letters - set(ascii_chars))])


def build_random_model(
    arch: str | dict[str, Any] | DiTConfig = "demo",
    seed: int = 0,
    device: str | torch.device | None = "cpu",
    dtype: str | torch.dtype | None = None,
) -> F5Model:
    """A model with random weights and the real architecture; the same seed gives the same weights.

    The demo model (arch "demo") serves tests and `make demo`; bigger archs serve benchmarks.
    """
    _, cfg = resolve_arch(arch)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = F5Model(cfg, demo_vocab())
        with torch.no_grad():
            # Zero-initialised parts (GRN) get values too, so every code path matters.
            for p in model.transformer.parameters():
                if not p.any():
                    p.normal_(0.0, 0.02)
    device = pick_device(device)
    return model.to(device=device, dtype=pick_dtype(device, dtype)).eval()


def build_demo_model(seed: int = 0, device: str | torch.device | None = "cpu") -> F5Model:
    return build_random_model("demo", seed, device)
