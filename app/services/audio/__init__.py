"""Output audio formats and streaming encoders for the TTS service.

Pure CPU work on numpy arrays, no web framework: the API calls these in an
executor. See docs/audio-formats.md for formats, decisions and how the
endpoints use them.

    from app.services.audio import AudioFormat, StreamEncoder, encode

    data = encode(audio, 24000, "mp3", target_rate=48000)

    stream = StreamEncoder("opus", 24000)
    send(stream.header())
    for chunk in chunks:
        send(stream.encode(chunk))
    send(stream.finish())
"""

from app.services.audio.encode import encode
from app.services.audio.errors import AudioOptionError, UnsupportedFormatError, UnsupportedSampleRateError
from app.services.audio.formats import (
    DEFAULT_SAMPLE_RATE,
    FORMAT_NAMES,
    OPUS_SAMPLE_RATES,
    STREAMABLE_FORMAT_NAMES,
    SUPPORTED_SAMPLE_RATES,
    AudioFormat,
    check_sample_rate,
    output_sample_rate,
)
from app.services.audio.pcm import to_pcm16, wav_header
from app.services.audio.resample import Resampler, resample
from app.services.audio.stream import StreamEncoder

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "FORMAT_NAMES",
    "OPUS_SAMPLE_RATES",
    "STREAMABLE_FORMAT_NAMES",
    "SUPPORTED_SAMPLE_RATES",
    "AudioFormat",
    "AudioOptionError",
    "Resampler",
    "StreamEncoder",
    "UnsupportedFormatError",
    "UnsupportedSampleRateError",
    "check_sample_rate",
    "encode",
    "output_sample_rate",
    "resample",
    "to_pcm16",
    "wav_header",
]
