"""Audio clips for the voice tests, made in memory."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from tests.app.service_process import SHIPPED_VOICES


def speech(seconds: float | None = None, rate: int = 24_000) -> np.ndarray:
    """A shipped sample (synthetic speech), cut or repeated to ``seconds``, at ``rate``."""
    wav, source_rate = sf.read(SHIPPED_VOICES / "giong_nam.wav", dtype="float32")
    if rate != source_rate:
        positions = np.arange(0, len(wav), source_rate / rate)
        wav = np.interp(positions, np.arange(len(wav)), wav).astype(np.float32)
    if seconds is not None:
        wanted = int(seconds * rate)
        wav = np.tile(wav, wanted // len(wav) + 1)[:wanted]
    return wav


def encode(wav: np.ndarray, rate: int = 24_000, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, wav, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def speech_wav(seconds: float | None = None, rate: int = 24_000) -> bytes:
    return encode(speech(seconds, rate), rate, subtype="PCM_16")


def silence_wav(seconds: float = 3.0, rate: int = 24_000) -> bytes:
    return encode(np.zeros(int(seconds * rate), dtype=np.float32), rate, subtype="PCM_16")
