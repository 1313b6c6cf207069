"""Whole-file encoding: float audio in, the bytes of a file out."""

from __future__ import annotations

import io

import numpy as np

from app.services.audio.codec import open_writer
from app.services.audio.formats import AudioFormat, check_sample_rate, output_sample_rate
from app.services.audio.pcm import as_mono_float, to_pcm16, wav_header
from app.services.audio.resample import resample


def encode(
    audio: np.ndarray,
    sample_rate: int,
    fmt: AudioFormat | str,
    *,
    target_rate: int | None = None,
) -> bytes:
    """``audio`` (mono float, ``sample_rate`` Hz) as a complete file in ``fmt``.

    ``target_rate`` ``None`` keeps ``sample_rate``; otherwise the audio is
    resampled to ``output_sample_rate(fmt, target_rate)`` (the requested rate,
    except Opus at 22050/44100 Hz). Samples outside [-1, 1] are clipped.
    CPU-bound and blocking: the service runs it in an executor.

    Empty audio gives an empty file where the format can hold one (WAV: a
    header with no data; PCM: no bytes). libsndfile writes no readable FLAC,
    MP3 or Opus file without samples, so those hold one sample of silence.

    Raises ``UnsupportedFormatError`` / ``UnsupportedSampleRateError``.
    """
    fmt = AudioFormat.parse(fmt)
    sample_rate = check_sample_rate(sample_rate)
    rate = output_sample_rate(fmt, sample_rate if target_rate is None else target_rate)
    samples = as_mono_float(audio)
    if rate != sample_rate:
        samples = resample(samples, sample_rate, rate)

    if fmt is AudioFormat.PCM:
        return to_pcm16(samples).tobytes()
    if fmt is AudioFormat.WAV:
        pcm = to_pcm16(samples)
        return wav_header(rate, pcm.shape[0]) + pcm.tobytes()

    if samples.shape[0] == 0:
        samples = np.zeros(1, dtype=np.float32)
    buffer = io.BytesIO()
    with open_writer(fmt, rate, buffer) as writer:
        if fmt is AudioFormat.FLAC:
            # Our own int16 conversion, so FLAC holds exactly the samples WAV and PCM do.
            writer.write(to_pcm16(samples))
        else:
            writer.write(np.clip(samples, -1.0, 1.0))
    return buffer.getvalue()
