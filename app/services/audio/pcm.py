"""Float samples to 16-bit PCM, and the RIFF/WAVE header in front of it."""

from __future__ import annotations

import struct

import numpy as np

# Written into both size fields of a header whose length is not known yet.
# It is what ffmpeg writes when its output cannot seek (ff_start_tag writes -1),
# so players already cope with it; libsndfile and Python's ``wave`` module both
# read such a file to its real end (tests/app/formats check both).
UNKNOWN_SIZE = 0xFFFFFFFF

WAV_HEADER_BYTES = 44


def as_mono_float(audio: np.ndarray) -> np.ndarray:
    """``audio`` as a 1-D float32 array in [-1, 1], with NaN and infinities made finite.

    Clipping happens here, before any integer conversion, so a sample past
    full scale saturates instead of wrapping around to the other sign.
    NaN becomes silence rather than an undefined integer.
    """
    array = np.asarray(audio)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)  # (n, 1) or (1, n): one channel
    if array.ndim != 1:
        raise ValueError(f"expected mono audio as a 1-D array, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        # Integer samples would need a guess at their full scale; the engine gives floats.
        raise ValueError(f"expected float audio samples in [-1, 1], got dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        array = np.nan_to_num(array, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(array, -1.0, 1.0)


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Little-endian int16 samples for float ``audio`` (clipped first).

    Scaled by 32768 and rounded half-to-even, as libsndfile does, so reading
    the result back as float (which divides by 32768) is within half an LSB
    of the input, and +1.0 saturates to 32767.
    """
    scaled = np.rint(as_mono_float(audio) * np.float32(32768.0))
    return np.clip(scaled, -32768, 32767).astype("<i2")


def wav_header(sample_rate: int, num_samples: int | None = None) -> bytes:
    """A 44-byte canonical PCM16 mono WAV header.

    ``num_samples`` ``None`` writes ``UNKNOWN_SIZE`` in the RIFF and data size
    fields, for a stream whose length is not known when the header is sent.
    """
    if num_samples is None:
        riff_size = data_size = UNKNOWN_SIZE
    else:
        data_size = 2 * num_samples
        riff_size = WAV_HEADER_BYTES - 8 + data_size
        if riff_size > UNKNOWN_SIZE:
            raise ValueError("audio too long for a WAV file (4 GiB limit)")
    block_align = 2  # one channel x 2 bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * block_align, block_align, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )
