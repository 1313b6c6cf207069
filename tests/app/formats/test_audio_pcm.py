"""Float -> PCM16 conversion (clipping, rounding, odd input) and the WAV header."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
import pytest
import soundfile as sf

from app.services.audio import encode, to_pcm16, wav_header
from app.services.audio.pcm import UNKNOWN_SIZE


def test_out_of_range_samples_saturate_instead_of_wrapping() -> None:
    audio = np.array([1.5, 1.0, 0.99999, -1.0, -1.5, 40.0, -40.0], dtype=np.float32)
    pcm = to_pcm16(audio)
    assert pcm.dtype == np.dtype("<i2")
    # A wrapped 1.5 * 32768 would be negative; a clipped one is full scale.
    assert pcm.tolist() == [32767, 32767, 32767, -32768, -32768, 32767, -32768]


def test_clipping_holds_for_every_integer_format() -> None:
    loud = np.array([0.0, 2.0, -2.0, 0.5], dtype=np.float32)
    assert np.frombuffer(encode(loud, 24000, "pcm"), "<i2").tolist() == [0, 32767, -32768, 16384]
    wav_samples, _ = sf.read(io.BytesIO(encode(loud, 24000, "wav")), dtype="int16")
    flac_samples, _ = sf.read(io.BytesIO(encode(loud, 24000, "flac")), dtype="int16")
    assert wav_samples.tolist() == flac_samples.tolist() == [0, 32767, -32768, 16384]


def test_clipping_also_catches_resampling_overshoot() -> None:
    # A full-scale square wave rings past +-1 when band-limited; no sample may wrap.
    square = np.where(np.arange(2400) % 60 < 30, 1.0, -1.0).astype(np.float32)
    pcm = np.frombuffer(encode(square, 24000, "pcm", target_rate=48000), "<i2").astype(np.int32)
    assert pcm.max() == 32767 and pcm.min() == -32768
    # Wrap-around would show as a jump of nearly the full range between neighbours.
    assert np.abs(np.diff(pcm)).max() < 40000


def test_rounding_is_to_nearest_and_reads_back_within_half_an_lsb() -> None:
    rng = np.random.default_rng(3)
    audio = rng.uniform(-0.99, 0.99, 10000).astype(np.float32)
    back = to_pcm16(audio).astype(np.float64) / 32768.0  # how libsndfile reads PCM16 as float
    assert np.abs(back - audio).max() <= 0.5 / 32768 + 1e-9


def test_nan_and_infinities_become_finite_samples() -> None:
    audio = np.array([np.nan, np.inf, -np.inf, 0.25], dtype=np.float32)
    assert to_pcm16(audio).tolist() == [0, 32767, -32768, 8192]


def test_column_vectors_are_mono_and_other_shapes_are_refused() -> None:
    column = np.full((5, 1), 0.5, dtype=np.float64)
    assert to_pcm16(column).tolist() == [16384] * 5
    with pytest.raises(ValueError, match="1-D"):
        to_pcm16(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="float"):
        to_pcm16(np.zeros(5, dtype=np.int16))


def test_known_length_header_fields() -> None:
    header = wav_header(22050, 1000)
    assert len(header) == 44
    riff, riff_size, wave_id, fmt_id, fmt_size = struct.unpack("<4sI4s4sI", header[:20])
    audio_format, channels, rate, byte_rate, block_align, bits = struct.unpack("<HHIIHH", header[20:36])
    data_id, data_size = struct.unpack("<4sI", header[36:44])
    assert (riff, wave_id, fmt_id, data_id) == (b"RIFF", b"WAVE", b"fmt ", b"data")
    assert (fmt_size, audio_format, channels, bits, block_align) == (16, 1, 1, 16, 2)
    assert (rate, byte_rate) == (22050, 44100)
    assert (riff_size, data_size) == (36 + 2000, 2000)


def test_unknown_length_header_says_so_in_both_size_fields() -> None:
    header = wav_header(24000, None)
    assert struct.unpack("<I", header[4:8])[0] == UNKNOWN_SIZE == 0xFFFFFFFF
    assert struct.unpack("<I", header[40:44])[0] == UNKNOWN_SIZE
    assert header[:4] == b"RIFF" and header[36:40] == b"data"


def test_unknown_length_wav_is_read_to_its_real_end() -> None:
    samples = (np.arange(24001) % 2000 - 1000).astype("<i2")
    data = wav_header(24000, None) + samples.tobytes()

    info = sf.info(io.BytesIO(data))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (24000, 1, 24001, "PCM_16")
    read, _ = sf.read(io.BytesIO(data), dtype="int16")
    assert np.array_equal(read, samples)

    # Python's wave module trusts the size field for getnframes() but reads to EOF.
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24000, 1, 2)
        assert np.array_equal(np.frombuffer(w.readframes(1 << 30), "<i2"), samples)
