from __future__ import annotations

import numpy as np
import pytest
import torch

from f5_tts import F5TTS
from f5_tts.config import DiTConfig
from f5_tts.loading import build_demo_model

SR = 24000


@pytest.fixture(scope="session")
def engine() -> F5TTS:
    return F5TTS.demo(seed=0)


@pytest.fixture(scope="session")
def demo_model():
    return build_demo_model(seed=0)


def tone(seconds: float, freq: float = 220.0, amp: float = 0.3, sr: int = SR) -> np.ndarray:
    """A voiced-looking test clip: a tone gated on and off at 2 Hz."""
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t) * (np.sin(2 * np.pi * 2 * t) > -0.5)).astype(np.float32)


@pytest.fixture
def ref_clip() -> tuple[np.ndarray, int]:
    return tone(2.5), SR


def random_dit_config(**overrides) -> DiTConfig:
    base = dict(dim=32, depth=2, heads=2, dim_head=16, ff_mult=2, text_dim=16, conv_layers=2)
    base.update(overrides)
    return DiTConfig(**base)


def randomize(module: torch.nn.Module, seed: int = 0, std: float = 0.05) -> torch.nn.Module:
    """Non-zero values everywhere, so zero-initialised parts cannot hide a mistake."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std + (1.0 if name.endswith("norm.weight") else 0.0))
    return module
