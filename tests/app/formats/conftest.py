"""Shared test signals and decoding helpers for the audio-format tests.

Signals are synthetic and seeded, so every run encodes the same samples.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf


def speech_like(seconds: float, rate: int = 24000, seed: int = 0, peak: float = 0.6) -> np.ndarray:
    """A voiced-speech stand-in: a gliding 120-160 Hz harmonic series, a syllable-rate
    envelope and a little noise, band-limited below 0.45 * rate; float32 in [-peak, peak]."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    f0 = 140.0 + 20.0 * np.sin(2 * np.pi * 3.0 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 40) if k * 160 < 0.45 * rate)
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t)
    x = voiced * envelope + 0.01 * rng.standard_normal(n)
    return (peak * x / np.abs(x).max()).astype(np.float32)


def decode(data: bytes, dtype: str = "float32") -> tuple[np.ndarray, int]:
    """Samples and sample rate of an encoded file, as a client using soundfile gets them.

    One ``sf.read`` call, which reads ``info.frames`` frames (or up to the end
    if there are fewer). Reading MP3 in small blocks makes libmpg123 print
    bit-reservoir warnings at block edges (same samples, but noisy logs).
    """
    samples, rate = sf.read(io.BytesIO(data), dtype=dtype)
    return samples, rate


def snr_db(reference: np.ndarray, decoded: np.ndarray) -> float:
    n = min(reference.shape[0], decoded.shape[0])
    error = decoded[:n].astype(np.float64) - reference[:n]
    return float(10 * np.log10(np.sum(reference[:n].astype(np.float64) ** 2) / np.sum(error**2)))


@pytest.fixture(scope="session")
def voice() -> np.ndarray:
    """One second of speech-like audio at 24 kHz."""
    return speech_like(1.0)
