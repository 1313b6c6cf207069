"""Streaming encoders: the bytes of a stream form a valid file equal to the one-shot file."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
import pytest
import soundfile as sf

from app.services.audio import SUPPORTED_SAMPLE_RATES, StreamEncoder, encode, output_sample_rate
from app.services.audio.mp3 import layer3_frame_length

from .conftest import decode, speech_like

LSB = 1.0 / 32768
# Uneven chunk sizes, with empty and tiny chunks and ones that split a resampler
# period (160 samples for 24000 -> 22050) and an MP3 frame (576 / 1152).
CHUNK_SIZES = [0, 1, 7, 2400, 159, 0, 5000, 577, 3, 9000]


def _stream(encoder: StreamEncoder, audio: np.ndarray, sizes: list[int]) -> tuple[bytes, list[bytes]]:
    """(whole stream, the pieces as sent: header, one per chunk, finish)."""
    pieces = [encoder.header()]
    start = 0
    for size in [*sizes, audio.shape[0]]:
        pieces.append(encoder.encode(audio[start : start + size]))
        start += size
    pieces.append(encoder.finish())
    return b"".join(pieces), pieces


@pytest.fixture(scope="module")
def long_voice() -> np.ndarray:
    return speech_like(1.5, seed=1)


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
@pytest.mark.parametrize("fmt", ["wav", "pcm"])
def test_pcm_streams_equal_the_one_shot_samples(long_voice: np.ndarray, fmt: str, rate: int) -> None:
    stream, _ = _stream(StreamEncoder(fmt, 24000, rate), long_voice, CHUNK_SIZES)
    one_shot = encode(long_voice, 24000, fmt, target_rate=rate)
    skip = 44 if fmt == "wav" else 0
    streamed = np.frombuffer(stream[skip:], "<i2").astype(np.int32)
    whole = np.frombuffer(one_shot[skip:], "<i2").astype(np.int32)
    assert streamed.shape == whole.shape
    # The resampler carries its filter state across chunks and sums in float64,
    # so the only possible difference is a float32 rounding tie flipping one LSB;
    # in practice the streams are identical (asserted separately below).
    assert np.abs(streamed - whole).max() <= 1


def test_pcm_streams_are_in_fact_bit_identical(long_voice: np.ndarray) -> None:
    for rate in (22050, 44100):
        stream, _ = _stream(StreamEncoder("pcm", 24000, rate), long_voice, CHUNK_SIZES)
        assert stream == encode(long_voice, 24000, "pcm", target_rate=rate)


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
def test_wav_stream_is_a_valid_file_of_unknown_length(long_voice: np.ndarray, rate: int) -> None:
    stream, pieces = _stream(StreamEncoder("wav", 24000, rate), long_voice, CHUNK_SIZES)
    assert len(pieces[0]) == 44 and pieces[0][:4] == b"RIFF"
    assert struct.unpack("<II", pieces[0][4:8] + pieces[0][40:44]) == (0xFFFFFFFF, 0xFFFFFFFF)
    expected_frames = round(1.5 * rate)
    info = sf.info(io.BytesIO(stream))
    assert (info.samplerate, info.channels, info.frames) == (rate, 1, expected_frames)
    decoded, _ = decode(stream)
    assert decoded.shape[0] == expected_frames
    with wave.open(io.BytesIO(stream)) as w:
        assert w.getframerate() == rate
        assert len(w.readframes(1 << 30)) == 2 * expected_frames


def test_wav_and_pcm_send_every_sample_as_soon_as_it_arrives(long_voice: np.ndarray) -> None:
    encoder = StreamEncoder("pcm", 24000)
    assert encoder.header() == b""
    assert len(encoder.encode(long_voice[:1234])) == 2 * 1234
    assert len(encoder.encode(long_voice[1234:1235])) == 2
    assert encoder.finish() == b""


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
def test_mp3_stream_is_the_one_shot_file_without_its_header_frame(long_voice: np.ndarray, rate: int) -> None:
    stream, pieces = _stream(StreamEncoder("mp3", 24000, rate), long_voice, CHUNK_SIZES)
    one_shot = encode(long_voice, 24000, "mp3", target_rate=rate)
    header_frame = layer3_frame_length(one_shot[:4])
    assert header_frame is not None and b"Info" in one_shot[:header_frame]
    # Same encoder settings and bit-identical input, so LAME emits the same frames;
    # only the LAME/Info frame, which can only be written at the end, is missing.
    assert stream == one_shot[header_frame:]
    assert b"Info" not in stream[:header_frame] and b"Xing" not in stream[:header_frame]
    # Bytes flowed before the end, not all at finish().
    assert sum(len(p) for p in pieces[:-1]) > 0.8 * len(stream)


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
def test_mp3_stream_reads_back_as_the_audio_after_lame_delay(long_voice: np.ndarray, rate: int) -> None:
    stream, _ = _stream(StreamEncoder("mp3", 24000, rate), long_voice, CHUNK_SIZES)
    info = sf.info(io.BytesIO(stream))
    assert (info.samplerate, info.channels) == (rate, 1)
    streamed, _ = decode(stream)
    whole, _ = decode(encode(long_voice, 24000, "mp3", target_rate=rate))
    assert whole.shape[0] == round(1.5 * rate)
    # Without the gapless header nobody trims LAME's start delay (576 + 529
    # samples): the stream decodes to exactly that much silence, then the file.
    delay = 1105
    assert np.abs(streamed[delay : delay + whole.shape[0]] - whole).max() < 1e-6
    # (near-silence: only codec pre-echo of the first syllable reaches into it)
    assert np.sqrt(np.mean(streamed[:delay] ** 2)) < 0.1 * np.sqrt(np.mean(whole**2))
    # At the end, LAME's padding: enough for the decoder's 529-sample overlap,
    # rounded up to whole frames.
    frame = 1152 if rate >= 32000 else 576
    assert 0 <= streamed.shape[0] - delay - whole.shape[0] <= 529 + frame
    # A header-less CBR stream is sized from its byte count: never short (that would
    # truncate reads), at most a few padding bytes' worth long.
    assert streamed.shape[0] <= info.frames <= 1.005 * streamed.shape[0]


def test_mp3_stream_starts_sending_before_the_end(long_voice: np.ndarray) -> None:
    encoder = StreamEncoder("mp3", 24000)
    first = encoder.encode(long_voice[:12000])  # half a second
    assert len(first) > 0
    assert layer3_frame_length(first[:4]) is not None  # starts on a frame boundary
    rest = encoder.encode(long_voice[12000:]) + encoder.finish()
    assert len(rest) > 0


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
def test_opus_stream_decodes_exactly_like_the_one_shot_file(long_voice: np.ndarray, rate: int) -> None:
    stream, _ = _stream(StreamEncoder("opus", 24000, rate), long_voice, CHUNK_SIZES)
    file_rate = output_sample_rate("opus", rate)
    info = sf.info(io.BytesIO(stream))
    assert (info.format, info.subtype, info.samplerate) == ("OGG", "OPUS", file_rate)
    assert info.frames == round(1.5 * file_rate)  # Ogg Opus carries its exact length
    streamed, _ = decode(stream)
    whole, _ = decode(encode(long_voice, 24000, "opus", target_rate=rate))
    # Only the Ogg paging (and the random stream serial number) differs: same
    # input, same Opus packets, same decoded samples.
    assert streamed.shape == whole.shape
    assert np.array_equal(streamed, whole)


def test_opus_stream_sends_pages_per_chunk_not_per_second(long_voice: np.ndarray) -> None:
    encoder = StreamEncoder("opus", 24000)
    first = encoder.encode(long_voice[:7200])  # 300 ms
    # Ogg pages, first the two header pages, then audio: with libsndfile's default
    # 1000 ms page latency nothing but the headers would be out yet.
    assert first[:4] == b"OggS"
    granules = _ogg_granules(first)
    assert len(granules) >= 3
    assert max(granules) >= 0.15 * 48000  # over half of the 300 ms is already decodable
    encoder.finish()


def _ogg_granules(data: bytes) -> list[int]:
    """Granule positions of the complete Ogg pages in ``data`` (48 kHz units for Opus)."""
    granules, offset = [], 0
    while offset + 27 <= len(data):
        assert data[offset : offset + 4] == b"OggS"
        granule = struct.unpack("<q", data[offset + 6 : offset + 14])[0]
        segments = data[offset + 26]
        body = sum(data[offset + 27 : offset + 27 + segments])
        offset += 27 + segments + body
        granules.append(granule)
    return granules


@pytest.mark.parametrize("fmt", ["wav", "pcm", "mp3", "opus"])
def test_skipping_header_still_gives_a_valid_stream(long_voice: np.ndarray, fmt: str) -> None:
    with_header, _ = _stream(StreamEncoder(fmt, 24000), long_voice, [4800])
    encoder = StreamEncoder(fmt, 24000)
    pieces = [encoder.encode(long_voice[:4800]), encoder.encode(long_voice[4800:]), encoder.finish()]
    without = b"".join(pieces)
    if fmt == "opus":  # random serial numbers: compare what decodes
        assert np.array_equal(decode(without)[0], decode(with_header)[0])
    else:
        assert without == with_header


@pytest.mark.parametrize("fmt", ["wav", "pcm", "mp3", "opus"])
def test_an_empty_stream_is_still_a_valid_file(fmt: str) -> None:
    encoder = StreamEncoder(fmt, 24000)
    stream = encoder.header() + encoder.encode(np.zeros(0, dtype=np.float32)) + encoder.finish()
    if fmt == "pcm":
        assert stream == b""
        return
    decoded, rate = decode(stream)
    assert rate == 24000
    if fmt == "wav":
        assert len(stream) == 44 and decoded.shape[0] == 0
    elif fmt == "opus":  # one sample of silence, as in encode()
        assert decoded.shape[0] == 1
    else:  # the same sample, after LAME's delay and before its padding
        assert 1 <= decoded.shape[0] <= 1 + 1105 + 529 + 576
        assert np.abs(decoded).max() < 1e-3


def test_loud_chunks_are_clipped_in_streams() -> None:
    encoder = StreamEncoder("pcm", 24000)
    out = encoder.encode(np.array([2.0, -2.0, 0.5], dtype=np.float32)) + encoder.finish()
    assert np.frombuffer(out, "<i2").tolist() == [32767, -32768, 16384]


def test_stream_reports_what_it_produces() -> None:
    encoder = StreamEncoder("opus", 24000, target_rate=44100)
    assert (encoder.format.value, encoder.input_rate, encoder.output_rate) == ("opus", 24000, 48000)
    assert encoder.media_type == "audio/ogg"
    encoder.encode(np.zeros(2400, dtype=np.float32))
    encoder.finish()
    assert encoder.samples_written == 4800


def test_a_finished_or_closed_stream_refuses_more_audio(long_voice: np.ndarray) -> None:
    finished = StreamEncoder("mp3", 24000)
    finished.encode(long_voice[:2400])
    finished.finish()
    with pytest.raises(RuntimeError, match="finished"):
        finished.encode(long_voice[:10])
    with pytest.raises(RuntimeError, match="finished"):
        finished.finish()

    with StreamEncoder("opus", 24000) as abandoned:  # e.g. the client disconnected
        abandoned.encode(long_voice[:2400])
    with pytest.raises(RuntimeError, match="closed"):
        abandoned.encode(long_voice[:10])
    abandoned.close()  # closing twice is harmless


def test_streams_do_not_share_state(long_voice: np.ndarray) -> None:
    a, b = StreamEncoder("wav", 24000, 22050), StreamEncoder("wav", 24000, 22050)
    out_a = a.header() + a.encode(long_voice[:3000])
    out_b = b.header() + b.encode(-long_voice[:3000])
    out_a += a.finish()
    out_b += b.finish()
    samples_a = np.frombuffer(out_a[44:], "<i2").astype(np.int32)
    samples_b = np.frombuffer(out_b[44:], "<i2").astype(np.int32)
    assert samples_a.shape == samples_b.shape
    assert np.abs(samples_a + samples_b).max() <= 1  # mirror images: rounding of ties only
