"""What the service can output: formats, sample rates, and how requests map to them.

This is the single place that knows which values are allowed; the encoders
and the API both validate through ``AudioFormat.parse`` and
``check_sample_rate`` so every rejection reads the same.
"""

from __future__ import annotations

import operator
from enum import Enum

from app.services.audio.errors import UnsupportedFormatError, UnsupportedSampleRateError

# The engine (vocos) produces 24 kHz; every other rate is a resample.
DEFAULT_SAMPLE_RATE = 24000
SUPPORTED_SAMPLE_RATES: tuple[int, ...] = (16000, 22050, 24000, 44100, 48000)

# Opus itself only runs at these rates (RFC 6716 §2); libsndfile refuses others.
OPUS_SAMPLE_RATES: tuple[int, ...] = (8000, 12000, 16000, 24000, 48000)


class AudioFormat(str, Enum):
    """An output format. The value is the name clients send (``"mp3"``, ...).

    A ``str`` subclass so it compares equal to, and serialises as, its name.
    """

    WAV = "wav"
    FLAC = "flac"
    MP3 = "mp3"
    OPUS = "opus"
    PCM = "pcm"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        """File extension without the dot."""
        return _EXTENSIONS[self]

    @property
    def streamable(self) -> bool:
        """Whether ``StreamEncoder`` can produce it while audio is still arriving.

        FLAC is not: libsndfile's FLAC writer fills in STREAMINFO (length,
        MD5) by seeking back at the end, and libsndfile cannot read the file
        when that rewrite is missing ("Internal psf_fseek() failed").
        """
        return self is not AudioFormat.FLAC

    @property
    def lossless(self) -> bool:
        return self in (AudioFormat.WAV, AudioFormat.FLAC, AudioFormat.PCM)

    @classmethod
    def parse(cls, value: AudioFormat | str) -> AudioFormat:
        """The format named ``value`` (case and surrounding spaces ignored)."""
        if isinstance(value, AudioFormat):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        raise UnsupportedFormatError(
            f"unsupported audio format {value!r}; use one of: {', '.join(FORMAT_NAMES)}",
            value=value,
            allowed=FORMAT_NAMES,
        )


FORMAT_NAMES: tuple[str, ...] = tuple(f.value for f in AudioFormat)
STREAMABLE_FORMAT_NAMES: tuple[str, ...] = tuple(f.value for f in AudioFormat if f.streamable)

_MEDIA_TYPES = {
    AudioFormat.WAV: "audio/wav",
    AudioFormat.FLAC: "audio/flac",
    AudioFormat.MP3: "audio/mpeg",
    # RFC 7845 §9: Ogg Opus files are audio/ogg ("audio/opus" is the RTP payload type).
    AudioFormat.OPUS: "audio/ogg",
    # No registered type fits: audio/L16 (RFC 2586) is big-endian. "audio/pcm" is
    # what OpenAI-compatible servers send for this format, and it tells a reader
    # more than application/octet-stream; the rate goes in a separate header.
    AudioFormat.PCM: "audio/pcm",
}

_EXTENSIONS = {
    AudioFormat.WAV: "wav",
    AudioFormat.FLAC: "flac",
    AudioFormat.MP3: "mp3",
    AudioFormat.OPUS: "opus",  # RFC 7845 §9 recommends .opus for Ogg Opus
    AudioFormat.PCM: "pcm",
}


def check_sample_rate(rate: object) -> int:
    """``rate`` as an int if it is one of ``SUPPORTED_SAMPLE_RATES``."""
    try:
        value = operator.index(rate)  # ints (numpy ones too), never floats or strings
    except TypeError:
        value = None
    if isinstance(rate, bool) or value not in SUPPORTED_SAMPLE_RATES:
        allowed = ", ".join(str(r) for r in SUPPORTED_SAMPLE_RATES)
        raise UnsupportedSampleRateError(
            f"unsupported sample rate {rate!r}; use one of: {allowed}",
            value=rate,
            allowed=SUPPORTED_SAMPLE_RATES,
        )
    return value


def output_sample_rate(fmt: AudioFormat | str, target_rate: int | None = None) -> int:
    """The rate the encoded file will actually have for a request.

    ``target_rate`` ``None`` means the engine's 24 kHz. Every format honours
    the request exactly except Opus, which cannot run at 22050 or 44100 Hz:
    those get the next Opus rate up (24000, 48000), so no bandwidth the
    client asked for is lost. Opus decoders (browsers, libopusfile) output
    48 kHz whatever the file says, so this changes nothing they play.
    """
    fmt = AudioFormat.parse(fmt)
    rate = DEFAULT_SAMPLE_RATE if target_rate is None else check_sample_rate(target_rate)
    if fmt is AudioFormat.OPUS and rate not in OPUS_SAMPLE_RATES:
        rate = min(r for r in OPUS_SAMPLE_RATES if r >= rate)
    return rate
