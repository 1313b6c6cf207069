"""Whole-file encoding: every format at every rate reads back through soundfile."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from app.services.audio import SUPPORTED_SAMPLE_RATES, encode, output_sample_rate, resample
from app.services.audio.mp3 import layer3_frame_length

from .conftest import decode, snr_db

LSB = 1.0 / 32768

# libsndfile's view of each format: (container, subtype).
SNDFILE_TYPE = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "opus": ("OGG", "OPUS"),
}


def _expected(voice: np.ndarray, rate: int) -> np.ndarray:
    return voice if rate == 24000 else resample(voice, 24000, rate)


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_lossless_files_hold_the_samples_within_one_lsb(voice: np.ndarray, fmt: str, rate: int) -> None:
    data = encode(voice, 24000, fmt, target_rate=rate)
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype) == SNDFILE_TYPE[fmt]
    assert (info.samplerate, info.channels) == (rate, 1)
    expected = _expected(voice, rate)
    assert info.frames == expected.shape[0] == round(rate * 1.0)  # one second, exactly
    decoded, _ = decode(data)
    # Rounding to 16 bits moves a sample by at most half an LSB.
    assert np.abs(decoded - expected).max() <= LSB


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
def test_pcm_is_the_wav_payload_without_header(voice: np.ndarray, rate: int) -> None:
    pcm = encode(voice, 24000, "pcm", target_rate=rate)
    wav = encode(voice, 24000, "wav", target_rate=rate)
    assert len(pcm) == 2 * rate  # one second of 16-bit mono
    assert wav[44:] == pcm
    samples = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    assert np.abs(samples - _expected(voice, rate)).max() <= LSB


def test_flac_holds_exactly_the_wav_samples(voice: np.ndarray) -> None:
    wav, _ = sf.read(io.BytesIO(encode(voice, 24000, "wav")), dtype="int16")
    flac, _ = sf.read(io.BytesIO(encode(voice, 24000, "flac")), dtype="int16")
    assert np.array_equal(wav, flac)
    assert len(encode(voice, 24000, "flac")) < 0.8 * len(encode(voice, 24000, "wav"))


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
@pytest.mark.parametrize(("fmt", "min_snr_db"), [("mp3", 18.0), ("opus", 10.0)])
def test_lossy_files_decode_to_the_same_audio(voice: np.ndarray, fmt: str, min_snr_db: float, rate: int) -> None:
    data = encode(voice, 24000, fmt, target_rate=rate)
    file_rate = output_sample_rate(fmt, rate)
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype) == SNDFILE_TYPE[fmt]
    assert (info.samplerate, info.channels) == (file_rate, 1)
    # Exact length: the MP3 carries LAME's gapless header, Ogg Opus its pre-skip
    # and end granule, and libsndfile trims by both.
    assert info.frames == file_rate
    decoded, _ = decode(data)
    assert decoded.shape[0] == file_rate
    # Time-aligned and close in waveform: a shift by even one pitch period or a
    # wrong rate would put the SNR near or below 0 dB. The floors sit ~5 dB under
    # what these encoders reach on this signal (mp3 ~23-26 dB, opus ~15-25 dB).
    assert snr_db(_expected(voice, file_rate), decoded) > min_snr_db


@pytest.mark.parametrize(("rate", "kbps"), [(16000, 64), (22050, 64), (24000, 64), (44100, 96), (48000, 96)])
def test_mp3_is_constant_bitrate_with_a_gapless_header(voice: np.ndarray, rate: int, kbps: int) -> None:
    data = encode(voice, 24000, "mp3", target_rate=rate)
    first = layer3_frame_length(data[:4])
    assert first is not None
    # The first frame is LAME's Info frame (the CBR form of the Xing header).
    assert b"Info" in data[:first]
    # Walk every frame: all carry the same bit rate, so a reader can size a stream.
    bitrates, offset = set(), first
    while offset + 4 <= len(data):
        length = layer3_frame_length(data[offset : offset + 4])
        assert length is not None, f"no frame header at byte {offset}"
        bitrates.add(data[offset + 2] >> 4)
        offset += length
    assert offset == len(data)  # no trailing tag or garbage
    assert len(bitrates) == 1
    seconds = len(data) * 8 / (kbps * 1000)
    assert 1.0 <= seconds <= 1.2  # one second plus LAME's delay and padding frames


def test_opus_at_a_rate_opus_lacks_is_encoded_at_the_next_one_up(voice: np.ndarray) -> None:
    assert sf.info(io.BytesIO(encode(voice, 24000, "opus", target_rate=22050))).samplerate == 24000
    assert sf.info(io.BytesIO(encode(voice, 24000, "opus", target_rate=44100))).samplerate == 48000


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "opus", "pcm"])
def test_encode_does_not_modify_its_input(voice: np.ndarray, fmt: str) -> None:
    loud = voice * 3.0
    before = loud.copy()
    encode(loud, 24000, fmt, target_rate=48000)
    assert np.array_equal(loud, before)


def test_mp3_and_wav_encodes_are_deterministic(voice: np.ndarray) -> None:
    for fmt in ("wav", "flac", "mp3"):
        assert encode(voice, 24000, fmt) == encode(voice, 24000, fmt)


def test_float64_input_is_accepted(voice: np.ndarray) -> None:
    assert encode(voice.astype(np.float64), 24000, "pcm") == encode(voice, 24000, "pcm")


def test_empty_audio_gives_the_shortest_valid_file() -> None:
    empty = np.zeros(0, dtype=np.float32)
    assert encode(empty, 24000, "pcm") == b""
    wav = encode(empty, 24000, "wav", target_rate=48000)
    assert len(wav) == 44
    assert sf.info(io.BytesIO(wav)).frames == 0
    assert sf.info(io.BytesIO(wav)).samplerate == 48000
    # libsndfile writes no readable FLAC/MP3/Opus without samples: one sample of silence.
    for fmt in ("flac", "mp3", "opus"):
        decoded, rate = decode(encode(empty, 24000, fmt))
        assert rate == 24000
        assert decoded.shape[0] == 1
        assert np.abs(decoded).max() < 1e-3
