"""Format names, media types, sample rates, and the errors for values not offered."""

from __future__ import annotations

import numpy as np
import pytest

from app.services.audio import (
    FORMAT_NAMES,
    STREAMABLE_FORMAT_NAMES,
    SUPPORTED_SAMPLE_RATES,
    AudioFormat,
    AudioOptionError,
    StreamEncoder,
    UnsupportedFormatError,
    UnsupportedSampleRateError,
    check_sample_rate,
    encode,
    output_sample_rate,
    resample,
)


def test_the_issue_formats_and_rates_are_offered() -> None:
    assert FORMAT_NAMES == ("wav", "flac", "mp3", "opus", "pcm")
    assert STREAMABLE_FORMAT_NAMES == ("wav", "mp3", "opus", "pcm")
    assert SUPPORTED_SAMPLE_RATES == (16000, 22050, 24000, 44100, 48000)


@pytest.mark.parametrize(
    ("fmt", "media_type", "extension"),
    [
        ("wav", "audio/wav", "wav"),
        ("flac", "audio/flac", "flac"),
        ("mp3", "audio/mpeg", "mp3"),
        ("opus", "audio/ogg", "opus"),
        ("pcm", "audio/pcm", "pcm"),
    ],
)
def test_media_type_and_extension(fmt: str, media_type: str, extension: str) -> None:
    audio_format = AudioFormat.parse(fmt)
    assert audio_format.media_type == media_type
    assert audio_format.extension == extension
    assert audio_format == fmt  # a str enum: compares (and serialises) as its name


def test_parse_ignores_case_and_spaces_and_passes_enums_through() -> None:
    assert AudioFormat.parse(" MP3 ") is AudioFormat.MP3
    assert AudioFormat.parse(AudioFormat.OPUS) is AudioFormat.OPUS


@pytest.mark.parametrize("bad", ["aac", "ogg", "", "wav ;", None, 3])
def test_unknown_format_names_the_allowed_ones(bad: object) -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        AudioFormat.parse(bad)  # type: ignore[arg-type]
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error, AudioOptionError)
    assert error.allowed == FORMAT_NAMES
    assert error.value == bad
    assert "wav, flac, mp3, opus, pcm" in str(error)


@pytest.mark.parametrize("bad", [8000, 32000, 96000, 0, -24000, 24000.0, "24000", True, None])
def test_unsupported_sample_rate_names_the_allowed_ones(bad: object) -> None:
    with pytest.raises(UnsupportedSampleRateError) as info:
        check_sample_rate(bad)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AudioOptionError)
    assert info.value.allowed == SUPPORTED_SAMPLE_RATES
    assert "16000, 22050, 24000, 44100, 48000" in str(info.value)


def test_numpy_integer_rates_are_accepted() -> None:
    assert check_sample_rate(np.int64(44100)) == 44100
    assert type(check_sample_rate(np.int32(16000))) is int


def test_every_entry_point_validates(voice: np.ndarray) -> None:
    with pytest.raises(UnsupportedFormatError):
        encode(voice, 24000, "aac")
    with pytest.raises(UnsupportedSampleRateError):
        encode(voice, 24000, "wav", target_rate=32000)
    with pytest.raises(UnsupportedSampleRateError):
        encode(voice, 32000, "wav")  # the input rate too
    with pytest.raises(UnsupportedSampleRateError):
        resample(voice, 24000, 11025)
    with pytest.raises(UnsupportedFormatError):
        StreamEncoder("aac")
    with pytest.raises(UnsupportedSampleRateError):
        StreamEncoder("pcm", 24000, target_rate=8000)


def test_flac_cannot_be_streamed_and_the_error_says_what_can() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        StreamEncoder("flac")
    assert info.value.allowed == STREAMABLE_FORMAT_NAMES
    assert "cannot be streamed" in str(info.value)
    assert "wav, mp3, opus, pcm" in str(info.value)


@pytest.mark.parametrize("rate", SUPPORTED_SAMPLE_RATES)
@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "pcm"])
def test_output_rate_is_the_requested_rate(fmt: str, rate: int) -> None:
    assert output_sample_rate(fmt, rate) == rate


@pytest.mark.parametrize(
    ("requested", "encoded"),
    [(None, 24000), (16000, 16000), (22050, 24000), (24000, 24000), (44100, 48000), (48000, 48000)],
)
def test_opus_rates_round_up_to_an_opus_rate(requested: int | None, encoded: int) -> None:
    assert output_sample_rate("opus", requested) == encoded


def test_default_output_rate_is_the_engine_rate() -> None:
    assert output_sample_rate("mp3") == 24000
