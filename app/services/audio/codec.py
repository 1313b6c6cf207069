"""libsndfile writers for the compressed formats, with this service's settings.

Everything that depends on libsndfile's behaviour lives here (checked by
tests/app/formats against the bundled libsndfile 1.2.2).

MP3 is constant bit rate: 64 kbit/s at 16-24 kHz (MPEG-2 Layer III) and
96 kbit/s at 44.1/48 kHz (MPEG-1). CBR because a streamed MP3 goes out
without the LAME/Xing header (it is only known at the end): a reader then
estimates the length from the byte count, which is right only for CBR.
libsndfile reads a header-less VBR stream as much shorter than it is and
stops there. The same settings serve whole files, so a stream is byte for
byte the file minus its first frame.

Opus keeps libopus's default bit rate (about 28/35/64 kbit/s at 16/24/48 kHz
for speech), but Ogg pages are closed every ``OPUS_PAGE_LATENCY_MS`` instead
of libsndfile's 1000 ms default, which held back the first second of a
stream.
"""

from __future__ import annotations

import logging
from typing import BinaryIO

import soundfile as sf

from app.services.audio.formats import AudioFormat

logger = logging.getLogger(__name__)

# libsndfile maps compression level to the CBR bit rate per MPEG version; these
# give the rates above. Lower bit rates (level >= 0.667 at 24 kHz) make LAME
# drop its Info header and libsndfile misreport the length, so stay here.
_MP3_COMPRESSION_LEVEL = {16000: 0.6, 22050: 0.6, 24000: 0.6, 44100: 0.75, 48000: 0.75}

OPUS_PAGE_LATENCY_MS = 100.0
# From sndfile.h (libsndfile >= 1.1); soundfile does not export it.
_SFC_SET_OGG_PAGE_LATENCY_MS = 0x1302


def open_writer(fmt: AudioFormat, sample_rate: int, file: BinaryIO | object) -> sf.SoundFile:
    """A mono libsndfile writer for ``fmt`` (FLAC, MP3 or Opus) into ``file``.

    ``sample_rate`` must already be valid for the format (``output_sample_rate``).
    """
    if fmt is AudioFormat.FLAC:
        return sf.SoundFile(file, "w", sample_rate, 1, format="FLAC", subtype="PCM_16")
    if fmt is AudioFormat.MP3:
        return sf.SoundFile(
            file,
            "w",
            sample_rate,
            1,
            format="MP3",
            subtype="MPEG_LAYER_III",
            compression_level=_MP3_COMPRESSION_LEVEL[sample_rate],
            bitrate_mode="CONSTANT",
        )
    if fmt is AudioFormat.OPUS:
        writer = sf.SoundFile(file, "w", sample_rate, 1, format="OGG", subtype="OPUS")
        _set_ogg_page_latency(writer, OPUS_PAGE_LATENCY_MS)
        return writer
    raise ValueError(f"{fmt.value} is not written through libsndfile")


def _set_ogg_page_latency(writer: sf.SoundFile, milliseconds: float) -> None:
    # soundfile has no API for this command; its private handles are the only
    # way in. If a future soundfile moves them, streams get 1 s pages (worse
    # latency, still valid), not an error; the streaming test would catch it.
    try:
        value = sf._ffi.new("double*", milliseconds)
        result = sf._snd.sf_command(writer._file, _SFC_SET_OGG_PAGE_LATENCY_MS, value, sf._ffi.sizeof("double"))
    except AttributeError:
        logger.warning("cannot set the Ogg page latency with this soundfile version")
        return
    if result != 0:
        logger.warning("libsndfile refused Ogg page latency %s ms (%s)", milliseconds, result)
