"""Checking an uploaded voice clip (``POST /voices`` and inline references).

A clip is accepted when it decodes (WAV, FLAC, MP3, OGG), lasts between
``VOICE_MIN_SECONDS`` and ``VOICE_MAX_SECONDS``, is not silent and holds
enough sound once edge silence is trimmed, and its file is at most
``VOICE_MAX_UPLOAD_BYTES``. Accepted clips are stored as mono 16-bit PCM WAV at
their own sample rate (the engine resamples to 24 kHz itself).

Decoding and the silence checks are ``f5_tts.audio``'s (the same code that
prepares a reference for the model), so a clip that passes here is one the
engine can use. Blocking (decodes audio): call it from a worker thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile as sf

from app.core.errors import (
    AudioSilentError,
    AudioTooLongError,
    AudioTooShortError,
    AudioUnreadableError,
    PayloadTooLargeError,
)

# The engine's own reference preparation rate: transcripts are made from the
# clipped, 24 kHz reference the model will really use.
REFERENCE_SAMPLE_RATE = 24_000


@dataclass(frozen=True)
class ClipLimits:
    min_seconds: float = 1.0
    max_seconds: float = 30.0
    max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class CheckedClip:
    """A clip that passed every check."""

    wav: np.ndarray  # float32 mono at ``sample_rate``
    sample_rate: int
    seconds: float
    reference_wav: np.ndarray  # what the engine will use: 24 kHz, trimmed, clipped to ~12 s

    def to_wav_bytes(self) -> bytes:
        """Mono 16-bit PCM WAV at the clip's own rate (how uploads are stored)."""
        buffer = io.BytesIO()
        sf.write(buffer, np.clip(self.wav, -1.0, 1.0), self.sample_rate, format="WAV", subtype="PCM_16")
        return buffer.getvalue()


def check_clip(data: bytes, limits: ClipLimits, *, what: str = "the audio") -> CheckedClip:
    """Decode and check ``data``; raises a 4xx ``ServiceError`` naming the problem."""
    from f5_tts import errors as engine_errors
    from f5_tts.audio import load_audio, prepare_reference_audio

    if len(data) > limits.max_bytes:
        raise PayloadTooLargeError(
            f"{what} is {len(data)} bytes; the limit is {limits.max_bytes} (VOICE_MAX_UPLOAD_BYTES)"
        )
    if not data:
        raise AudioUnreadableError(f"{what} is empty")
    try:
        wav, rate = load_audio(data, max_seconds=limits.max_seconds)
    except engine_errors.ReferenceTooLongError as exc:
        raise AudioTooLongError(f"{what} is too long: {exc} The limit is {limits.max_seconds:g} s.") from exc
    except engine_errors.InvalidReferenceAudioError as exc:
        raise AudioUnreadableError(f"{what} could not be decoded as WAV, FLAC, MP3 or OGG audio") from exc
    seconds = wav.shape[0] / rate
    if seconds < limits.min_seconds:
        raise AudioTooShortError(f"{what} lasts {seconds:.2f} s; it must last at least {limits.min_seconds:g} s")
    try:
        prepared: Any = prepare_reference_audio(wav, rate)
    except engine_errors.ReferenceSilentError as exc:
        raise AudioSilentError(f"{what} is silent or too quiet to hold a voice") from exc
    except engine_errors.ReferenceTooShortError as exc:
        raise AudioTooShortError(f"{what}: {exc}") from exc
    except engine_errors.InvalidReferenceAudioError as exc:
        raise AudioUnreadableError(f"{what} is unusable: {exc}") from exc
    return CheckedClip(wav=wav, sample_rate=int(rate), seconds=float(seconds), reference_wav=prepared.wav)


def reference_audio(path: Any) -> np.ndarray:
    """The clipped 24 kHz reference the engine prepares from the file at ``path``."""
    from f5_tts.audio import prepare_reference_audio

    return prepare_reference_audio(path).wav
