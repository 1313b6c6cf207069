"""The pieces under the stream encoders: the byte sink and MP3 frame parsing."""

from __future__ import annotations

import os

import numpy as np
import soundfile as sf

from app.services.audio import encode
from app.services.audio.mp3 import layer3_frame_length, placeholder_frame_length
from app.services.audio.sink import ByteSink


def test_sink_hands_out_each_byte_once_in_order() -> None:
    sink = ByteSink()
    sink.write(b"abc")
    assert sink.take() == b"abc"
    assert sink.take() == b""
    sink.write(b"de")
    sink.write(memoryview(b"f"))
    assert sink.tell() == 6
    assert sink.take() == b"def"


def test_sink_applies_rewrites_of_bytes_it_still_holds() -> None:
    sink = ByteSink()
    sink.write(b"HEADER--data")
    sink.seek(0)
    sink.write(b"header")  # e.g. a size field patched before anything was sent
    sink.seek(0, os.SEEK_END)
    sink.write(b"++")
    assert sink.take() == b"header--data++"
    assert sink.lost_rewrites == 0


def test_sink_counts_rewrites_of_bytes_already_taken() -> None:
    sink = ByteSink()
    sink.write(b"0123456789")
    assert sink.take() == b"0123456789"
    sink.write(b"abc")
    sink.seek(8)
    sink.write(b"XYZ")  # 2 bytes fall on sent data, 1 on held data
    assert sink.lost_rewrites == 2
    assert sink.take() == b"Zbc"
    assert sink.seek(0, os.SEEK_END) == 13


def test_sink_is_a_file_libsndfile_can_write_to() -> None:
    sink = ByteSink()
    with sf.SoundFile(sink, "w", 24000, 1, format="FLAC", subtype="PCM_16") as f:
        f.write(np.zeros(100, dtype=np.int16))
    data = sink.take()
    assert data[:4] == b"fLaC"
    assert sink.lost_rewrites == 0  # nothing was taken before the end


def test_layer3_frame_lengths_from_headers() -> None:
    # MPEG-2 Layer III, 64 kbit/s, 24 kHz, mono: 72 * 64000 / 24000 = 192 bytes.
    assert layer3_frame_length(bytes([0xFF, 0xF3, 0x84, 0xC4])) == 192
    # MPEG-1 Layer III, 96 kbit/s, 44.1 kHz, padded: 144 * 96000 / 44100 = 313 (+1).
    assert layer3_frame_length(bytes([0xFF, 0xFB, 0x70, 0xC4])) == 313
    assert layer3_frame_length(bytes([0xFF, 0xFB, 0x72, 0xC4])) == 314
    # Not frames: no sync, Layer II, free-format bit rate, reserved rate, too short.
    assert layer3_frame_length(b"RIFF") is None
    assert layer3_frame_length(bytes([0xFF, 0xFD, 0x84, 0xC4])) is None
    assert layer3_frame_length(bytes([0xFF, 0xF3, 0x04, 0xC4])) is None
    assert layer3_frame_length(bytes([0xFF, 0xF3, 0x8C, 0xC4])) is None
    assert layer3_frame_length(b"\xff\xf3") is None


def test_only_a_blank_first_frame_counts_as_placeholder() -> None:
    header = bytes([0xFF, 0xF3, 0x84, 0xC4])
    blank = header + bytes(188)
    assert placeholder_frame_length(blank + b"next") == 192
    assert placeholder_frame_length(blank[:100]) is None  # wait for the rest
    assert placeholder_frame_length(b"\xff") is None
    assert placeholder_frame_length(header + b"\x01" + bytes(187)) == 0  # real audio: keep
    assert placeholder_frame_length(b"ID3\x04") == 0  # not a frame: nothing to drop


def test_every_frame_of_a_real_file_parses() -> None:
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)).astype(np.float32)
    data = encode(tone, 48000, "mp3")
    offset = frames = 0
    while offset < len(data):
        length = layer3_frame_length(data[offset : offset + 4])
        assert length is not None
        offset += length
        frames += 1
    assert offset == len(data)
    # 1 s at 1152 samples per frame, plus the Info frame, delay and padding frames.
    assert 42 <= frames <= 46
