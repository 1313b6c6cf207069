"""Vocos: log-mel frames to 24 kHz audio, through the `vocos` package."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from vocos import Vocos
from vocos.feature_extractors import MelSpectrogramFeatures
from vocos.heads import ISTFTHead
from vocos.models import VocosBackbone

from f5_tts.device import pick_device
from f5_tts.errors import CheckpointError
from f5_tts.mel import HOP_LENGTH, N_FFT, N_MELS, SAMPLE_RATE

DEFAULT_VOCODER = "charactr/vocos-mel-24khz"


class Vocoder:
    """Batched mel -> waveform decoding, always in fp32 (Vocos is not robust in half precision)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, vocos: Vocos, device: torch.device):
        self.vocos = vocos.to(device).eval()
        self.device = device

    @torch.inference_mode()
    def decode(self, mels: Sequence[torch.Tensor]) -> list[np.ndarray]:
        """Mels [frames, 100] -> float32 waveforms of (frames - 1) * 256 samples each (centred iSTFT).

        Items of equal length share one call; unequal ones are not padded together, since padding
        would leak into the convolutions near each item's end.
        """
        out: list[np.ndarray | None] = [None] * len(mels)
        by_len: dict[int, list[int]] = {}
        for i, mel in enumerate(mels):
            by_len.setdefault(mel.shape[0], []).append(i)
        for idx in by_len.values():
            batch = torch.stack([mels[i] for i in idx]).to(self.device, torch.float32).transpose(1, 2)
            wav = self.vocos.decode(batch).float().cpu().numpy()
            for row, i in enumerate(idx):
                out[i] = wav[row]
        return out  # type: ignore[return-value]


def load_vocoder(path_or_repo: str | os.PathLike = DEFAULT_VOCODER, device=None) -> Vocoder:
    """From a local folder (config.yaml + pytorch_model.bin) or a hub repo id."""
    device = pick_device(device)
    folder = Path(os.fspath(path_or_repo)).expanduser()
    try:
        if folder.is_dir():
            config, weights = folder / "config.yaml", folder / "pytorch_model.bin"
            for f in (config, weights):
                if not f.is_file():
                    raise CheckpointError(f"vocoder folder {folder} lacks {f.name}")
            vocos = Vocos.from_hparams(str(config))
            state = torch.load(weights, map_location="cpu", weights_only=True)
            vocos.load_state_dict(state, strict=True)
        else:
            vocos = Vocos.from_pretrained(os.fspath(path_or_repo))
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError(f"could not load the vocoder from {path_or_repo}: {type(exc).__name__}: {exc}") from exc
    return Vocoder(vocos, device)


# The published charactr/vocos-mel-24khz backbone, for benchmarks with random weights.
FULL_SIZE = {"dim": 512, "intermediate_dim": 1536, "num_layers": 8}


def demo_vocoder(
    seed: int = 0, device=None, *, dim: int = 64, intermediate_dim: int = 128, num_layers: int = 2
) -> Vocoder:
    """A random Vocos with the real interface: tiny for tests and the demo, FULL_SIZE for timing."""
    device = pick_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        vocos = Vocos(
            feature_extractor=MelSpectrogramFeatures(
                sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS
            ),
            backbone=VocosBackbone(
                input_channels=N_MELS, dim=dim, intermediate_dim=intermediate_dim, num_layers=num_layers
            ),
            head=ISTFTHead(dim=dim, n_fft=N_FFT, hop_length=HOP_LENGTH, padding="center"),
        )
        # Quiet random magnitudes: a random head would otherwise produce full-scale clipping noise.
        with torch.no_grad():
            vocos.head.out.weight.mul_(0.05)
            vocos.head.out.bias.zero_()
            vocos.head.out.bias[: N_FFT // 2 + 1] = 4.0
    return Vocoder(vocos, device)
