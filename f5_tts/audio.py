"""Reference-audio handling around the model: decode, prepare, and join outputs.

The model was trained on 24 kHz mono clips at a fixed loudness, and its
duration estimate assumes the reference holds speech from edge to edge, so a
reference clip is normalised the same way the reference pipeline does before
it reaches the mel front end.

Levels are in dBFS with full scale = amplitude 1.0, i.e. ``20 * log10(rms)``.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as taf

from f5_tts.errors import (
    NotAudioError,
    ReferenceSilentError,
    ReferenceTooLongError,
    ReferenceTooShortError,
)

__all__ = [
    "HOP_LENGTH",
    "SAMPLE_RATE",
    "TARGET_RMS",
    "AudioSource",
    "PreparedAudio",
    "cross_fade_join",
    "load_audio",
    "prepare_reference_audio",
    "resample",
]

SAMPLE_RATE = 24000
HOP_LENGTH = 256
TARGET_RMS = 0.1

AudioSource = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO | np.ndarray | torch.Tensor

# An array dimension this small is taken to be channels; real clips are far longer.
MAX_CHANNELS = 8

# Below either level a clip holds no usable voice (-80 dBFS RMS / -60 dBFS peak),
# and scaling it up to TARGET_RMS would only amplify noise.
SILENT_RMS = 1e-4
SILENT_PEAK = 1e-3

FRAME_SECONDS = 0.010
EDGE_SILENCE_DBFS = -50.0
# Cut candidates, best first: a long pause is a safe place to end a reference;
# a short dip between phrases is the next best thing.
LONG_SILENCE_DBFS = -50.0
LONG_SILENCE_SECONDS = 1.0
SHORT_SILENCE_DBFS = -40.0
SHORT_SILENCE_SECONDS = 0.1
# A cut that leaves less than this is worse for cloning than a hard cut.
MIN_CUT_SECONDS = 2.0
TAIL_PAD_SECONDS = 0.050

# torchaudio builds a [new, orig + filter] kernel from the gcd-reduced rates;
# an odd rate like 22051 Hz would need gigabytes and tens of seconds.
_MAX_REDUCED_RATE = 1000
_MIN_SAMPLE_RATE = 1000
_MAX_SAMPLE_RATE = 768000

_UNNAMED = "the uploaded audio"


@dataclass(frozen=True)
class PreparedAudio:
    """A reference clip ready for the mel front end.

    ``rms_gain`` is what the generated audio must be multiplied by to sound as
    loud as the original reference (below 1.0 when the reference was raised
    to ``TARGET_RMS``). ``seconds`` includes the appended tail silence.
    ``clipped`` tells whether the clip was shortened to fit ``max_seconds``.
    """

    wav: np.ndarray
    rms_gain: float
    seconds: float
    clipped: bool


def load_audio(
    source: AudioSource,
    sample_rate: int | None = None,
    *,
    max_seconds: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode ``source`` to float32 mono and return it with its sample rate.

    ``source`` is a path, encoded bytes / a binary file object, or a sample
    array (numpy or torch) for which ``sample_rate`` is required. For encoded
    input the file's own rate wins and ``sample_rate`` is ignored.
    ``max_seconds`` rejects long input from the header, before decoding it.
    """
    if isinstance(source, (np.ndarray, np.generic, torch.Tensor)):
        if sample_rate is None:
            raise ValueError("sample_rate is required when the audio is passed as an array")
        rate = _check_array_rate(sample_rate)
        wav = _array_to_mono(source)
        name = _UNNAMED
        if max_seconds is not None:
            _check_input_length(wav.shape[0] / rate, max_seconds)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = f"'{path.name}'"
        if not path.exists():
            raise NotAudioError(f"Audio file {name} was not found.")
        if not path.is_file():
            raise NotAudioError(f"{name} is not a file.")
        wav, rate = _decode(path, name, max_seconds)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        name = _UNNAMED
        wav, rate = _decode(io.BytesIO(bytes(source)), name, max_seconds)
    elif hasattr(source, "read"):
        name = f"'{Path(str(source.name)).name}'" if isinstance(getattr(source, "name", None), str) else _UNNAMED
        wav, rate = _decode(source, name, max_seconds)
    else:
        raise TypeError(f"cannot load audio from a {type(source).__name__}")

    if not np.isfinite(wav).all():
        raise NotAudioError(f"{_cap(name)} contains invalid samples (NaN or infinity).")
    return wav, rate


def resample(wav: np.ndarray, orig_sr: int, new_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling along the last axis; float32 out."""
    for rate in (orig_sr, new_sr):
        if int(rate) != rate or rate <= 0:
            raise ValueError(f"sample rates must be positive integers, got {rate!r}")
    orig_sr, new_sr = int(orig_sr), int(new_sr)
    wav = np.asarray(wav, dtype=np.float32)
    if orig_sr == new_sr:
        return wav
    if wav.shape[-1] == 0:
        return np.zeros((*wav.shape[:-1], 0), dtype=np.float32)
    g = math.gcd(orig_sr, new_sr)
    if max(orig_sr // g, new_sr // g) > _MAX_REDUCED_RATE:
        return _fft_resample(wav, orig_sr, new_sr)
    out = taf.resample(torch.from_numpy(np.ascontiguousarray(wav)), orig_sr, new_sr)
    return out.numpy().astype(np.float32, copy=False)


def prepare_reference_audio(
    source: AudioSource,
    sample_rate: int | None = None,
    *,
    max_seconds: float = 12.0,
    min_seconds: float = 0.3,
    max_input_seconds: float = 300.0,
) -> PreparedAudio:
    """Turn an uploaded voice sample into the reference clip the model expects.

    Mono, 24 kHz, edge silence trimmed, clipped to ``max_seconds`` at a pause
    where there is one, raised to ``TARGET_RMS`` if quieter, 50 ms of silence
    appended (the model's output starts right after the reference, and a hard
    stop there would bleed into the first generated frames).
    """
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds!r}")
    if not 0 <= min_seconds <= max_seconds:
        raise ValueError(f"min_seconds must be within [0, max_seconds], got {min_seconds!r}")
    if not max_input_seconds > 0:
        raise ValueError(f"max_input_seconds must be positive, got {max_input_seconds!r}")

    wav, rate = load_audio(source, sample_rate, max_seconds=max_input_seconds)
    if wav.shape[0] == 0:
        raise ReferenceTooShortError(f"The reference audio is empty; it needs at least {min_seconds:g} s of speech.")
    wav = resample(wav, rate, SAMPLE_RATE)

    rms = _rms(wav)
    peak = float(np.max(np.abs(wav)))
    if rms < SILENT_RMS or peak < SILENT_PEAK:
        raise ReferenceSilentError(
            f"The reference audio is silent or too quiet (peak {_dbfs(peak):.0f} dBFS); it needs an audible voice."
        )

    # Silence thresholds are judged on the level the clip will have after
    # normalisation, so a quietly recorded voice is not mistaken for silence.
    frame_len = round(FRAME_SECONDS * SAMPLE_RATE)
    frame_db = _frame_dbfs(wav, frame_len) + _dbfs(max(1.0, TARGET_RMS / rms))

    # Never empty here: at the normalised level the loudest frame is near -20 dBFS.
    start, end = _trim_bounds(frame_db, EDGE_SILENCE_DBFS, frame_len, 0, wav.shape[0])

    max_samples = int(max_seconds * SAMPLE_RATE)
    clipped = end - start > max_samples
    if clipped:
        cut = _choose_cut(frame_db, frame_len, start, end, max_samples, max_seconds)
        _, end = _trim_bounds(frame_db, EDGE_SILENCE_DBFS, frame_len, start, cut)

    content = wav[start:end]
    if content.shape[0] < min_seconds * SAMPLE_RATE:
        raise ReferenceTooShortError(
            f"The reference audio holds only {content.shape[0] / SAMPLE_RATE:.2f} s of sound once "
            f"silence is trimmed; it needs at least {min_seconds:g} s."
        )

    content_rms = _rms(content)
    rms_gain = 1.0
    if content_rms < TARGET_RMS:
        content = content * np.float32(TARGET_RMS / content_rms)
        rms_gain = content_rms / TARGET_RMS

    pad = np.zeros(round(TAIL_PAD_SECONDS * SAMPLE_RATE), dtype=np.float32)
    out = np.concatenate([content.astype(np.float32, copy=False), pad])
    return PreparedAudio(wav=out, rms_gain=float(rms_gain), seconds=out.shape[0] / SAMPLE_RATE, clipped=clipped)


def cross_fade_join(
    waves: Sequence[np.ndarray],
    sample_rate: int = SAMPLE_RATE,
    cross_fade_duration: float = 0.15,
) -> np.ndarray:
    """Concatenate chunks, overlapping neighbours with a linear cross-fade.

    Each overlap is ``min(cross_fade_duration * sample_rate, len(prev), len(next))``
    samples, so the result is ``sum(lengths) - sum(overlaps)`` long. A
    non-positive duration means plain concatenation.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate!r}")
    parts: list[np.ndarray] = []
    for w in waves:
        arr = np.asarray(w, dtype=np.float32)
        if arr.ndim != 1:
            raise ValueError(f"each wave must be 1-D, got shape {arr.shape}")
        parts.append(arr)
    if not parts:
        return np.zeros(0, dtype=np.float32)

    fade = int(cross_fade_duration * sample_rate) if cross_fade_duration > 0 else 0
    if fade <= 0:
        return np.concatenate(parts)

    out = parts[0].copy()
    for nxt in parts[1:]:
        n = min(fade, out.shape[0], nxt.shape[0])
        if n == 0:
            out = np.concatenate([out, nxt])
            continue
        fade_out = np.linspace(1.0, 0.0, n, dtype=np.float32)
        fade_in = np.linspace(0.0, 1.0, n, dtype=np.float32)
        mixed = out[-n:] * fade_out + nxt[:n] * fade_in
        out = np.concatenate([out[:-n], mixed, nxt[n:]])
    return out


# --- decoding -----------------------------------------------------------------


def _decode(src: Path | BinaryIO, name: str, max_seconds: float | None) -> tuple[np.ndarray, int]:
    try:
        with sf.SoundFile(src) as f:
            rate = int(f.samplerate)
            frames = int(f.frames)
            _check_file_rate(rate, name)
            # The header is checked first so an hour-long upload is refused
            # without decoding it into memory.
            if max_seconds is not None and frames > 0:
                _check_input_length(frames / rate, max_seconds)
            data = f.read(dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError, EOFError, OSError) as e:
        if isinstance(e, (ReferenceTooLongError, NotAudioError)):
            raise
        raise NotAudioError(f"{_cap(name)} could not be read as audio (WAV, FLAC, OGG or MP3).") from e
    wav = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if max_seconds is not None:
        _check_input_length(wav.shape[0] / rate, max_seconds)
    return np.ascontiguousarray(wav, dtype=np.float32), rate


def _array_to_mono(source: np.ndarray | np.generic | torch.Tensor) -> np.ndarray:
    if isinstance(source, torch.Tensor):
        t = source.detach().cpu()
        if t.is_complex() or t.dtype == torch.bool:
            raise NotAudioError(f"Audio samples must be real numbers, got a {t.dtype} tensor.")
        if t.is_floating_point() and t.dtype != torch.float64:
            t = t.float()  # numpy has no bfloat16
        data = t.numpy()
    else:
        data = np.asarray(source)

    data = _to_float(data)
    # A [1, channels, samples] batch of one is common from torch code.
    while data.ndim > 2 and data.shape[0] == 1:
        data = data[0]
    if data.ndim == 0 or data.ndim > 2:
        raise NotAudioError(f"Audio samples must be a 1-D or 2-D array, got shape {tuple(data.shape)}.")
    if data.size == 0:
        return np.zeros(0, dtype=np.float32)
    if data.ndim == 2:
        rows, cols = data.shape
        if rows <= cols and rows <= MAX_CHANNELS:
            data = data.mean(axis=0)
        elif cols <= MAX_CHANNELS:
            data = data.mean(axis=1)
        else:
            raise NotAudioError(
                f"Cannot tell channels from samples in an array of shape {tuple(data.shape)}; "
                f"at most {MAX_CHANNELS} channels are supported."
            )
    return np.array(data, dtype=np.float32, copy=True)


def _to_float(data: np.ndarray) -> np.ndarray:
    if data.dtype.kind == "f":
        return data
    if data.dtype.kind in "iu":
        # PCM integers map to [-1, 1) the way soundfile decodes them.
        info = np.iinfo(data.dtype)
        half = 2.0 ** (info.bits - 1)
        offset = half if data.dtype.kind == "u" else 0.0
        return (data.astype(np.float64) - offset) / half
    raise NotAudioError(f"Audio samples must be real numbers, got dtype {data.dtype}.")


def _check_array_rate(rate: Any) -> int:
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer, float)) or int(rate) != rate:
        raise ValueError(f"sample_rate must be an integer, got {rate!r}")
    rate = int(rate)
    if not _MIN_SAMPLE_RATE <= rate <= _MAX_SAMPLE_RATE:
        raise ValueError(f"sample_rate must be within {_MIN_SAMPLE_RATE}..{_MAX_SAMPLE_RATE} Hz, got {rate}")
    return rate


def _check_file_rate(rate: int, name: str) -> None:
    if not _MIN_SAMPLE_RATE <= rate <= _MAX_SAMPLE_RATE:
        raise NotAudioError(
            f"{_cap(name)} has an unsupported sample rate of {rate} Hz "
            f"(supported: {_MIN_SAMPLE_RATE} to {_MAX_SAMPLE_RATE} Hz)."
        )


def _check_input_length(seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise ReferenceTooLongError(f"The reference audio is {seconds:.1f} s long; the limit is {max_seconds:g} s.")


def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


def _fft_resample(wav: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    # Truncating or zero-extending the spectrum is an ideal low-pass, so this is
    # alias-free; only the clip edges see wrap-around, and those are trimmed
    # as silence anyway. Length follows torchaudio's rule.
    n = wav.shape[-1]
    m = math.ceil(n * new_sr / orig_sr)
    spec = np.fft.rfft(wav.astype(np.float64), axis=-1)
    out_spec = np.zeros((*wav.shape[:-1], m // 2 + 1), dtype=np.complex128)
    keep = min(spec.shape[-1], out_spec.shape[-1])
    out_spec[..., :keep] = spec[..., :keep]
    return (np.fft.irfft(out_spec, n=m, axis=-1) * (m / n)).astype(np.float32)


# --- levels and silence -------------------------------------------------------


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _dbfs(amplitude: float) -> float:
    return 20.0 * math.log10(max(amplitude, 1e-10))


def _frame_dbfs(wav: np.ndarray, frame_len: int) -> np.ndarray:
    """RMS level of each frame; the last, partial frame is measured over what it has."""
    n = wav.shape[0]
    n_frames = -(-n // frame_len)
    sq = np.zeros(n_frames * frame_len, dtype=np.float64)
    sq[:n] = np.square(wav, dtype=np.float64)
    energy = sq.reshape(n_frames, frame_len).sum(axis=1)
    counts = np.full(n_frames, frame_len, dtype=np.float64)
    counts[-1] = n - (n_frames - 1) * frame_len
    return 10.0 * np.log10(np.maximum(energy / counts, 1e-20))


def _trim_bounds(frame_db: np.ndarray, threshold: float, frame_len: int, start: int, end: int) -> tuple[int, int]:
    """Sample bounds of ``[start, end)`` without its quiet frames at either edge.

    Returns an empty range (``end <= start``) when nothing is above ``threshold``.
    """
    f0, f1 = start // frame_len, -(-end // frame_len)
    loud = np.flatnonzero(frame_db[f0:f1] >= threshold)
    if loud.size == 0:
        return start, start
    first, last = f0 + int(loud[0]), f0 + int(loud[-1])
    return max(start, first * frame_len), min(end, (last + 1) * frame_len)


def _silence_starts(frame_db: np.ndarray, threshold: float, min_frames: int) -> np.ndarray:
    """Frame indices where a run of at least ``min_frames`` quiet frames begins."""
    quiet = np.concatenate([[False], frame_db < threshold, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    return starts[ends - starts >= min_frames]


def _choose_cut(
    frame_db: np.ndarray, frame_len: int, start: int, end: int, max_samples: int, max_seconds: float
) -> int:
    """Sample index to end the clip at, so that ``cut - start <= max_samples``."""
    f0, f1 = start // frame_len, -(-end // frame_len)
    window = frame_db[f0:f1]
    passes = (
        # A long pause is preferred only if it keeps a good share of the budget:
        # cloning quality grows with reference length.
        (LONG_SILENCE_DBFS, LONG_SILENCE_SECONDS, max_seconds / 2),
        (SHORT_SILENCE_DBFS, SHORT_SILENCE_SECONDS, min(MIN_CUT_SECONDS, max_seconds / 2)),
    )
    for threshold, min_len, min_keep in passes:
        starts = _silence_starts(window, threshold, round(min_len / FRAME_SECONDS))
        cuts = (starts + f0) * frame_len
        ok = cuts[(cuts - start <= max_samples) & (cuts - start >= min_keep * SAMPLE_RATE)]
        if ok.size:
            return int(ok.max())
    return start + max_samples
