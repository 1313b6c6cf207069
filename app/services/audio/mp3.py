"""Just enough MPEG audio frame parsing to find LAME's placeholder first frame.

Before any audio, LAME (via libsndfile) writes one frame that it fills in
with the LAME/Xing/Info summary (length, encoder delay, seek table) when the
file is closed. Until then everything after its 4-byte header is zero, which
decodes as a frame of silence. A stream cannot go back to fill it in, so the
stream encoder drops that frame instead of sending silence plus a header
that never comes.
"""

from __future__ import annotations

# Layer III bit rates in kbit/s by bitrate index, and sample rates by index.
_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}

HEADER_BYTES = 4


def layer3_frame_length(header: bytes) -> int | None:
    """Byte length of the MPEG Layer III frame whose header starts ``header``; ``None`` if not one."""
    if len(header) < HEADER_BYTES or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0b11  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    layer = (header[1] >> 1) & 0b11  # 1: Layer III
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0b11
    padding = (header[2] >> 1) & 0b1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrates = _BITRATES_V1 if version == 3 else _BITRATES_V2
    samples_per_frame = 1152 if version == 3 else 576
    bitrate = bitrates[bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    return samples_per_frame // 8 * bitrate // sample_rate + padding


def placeholder_frame_length(data: bytes) -> int | None:
    """Length of the blank first frame at the start of ``data``.

    ``None`` while ``data`` holds too few bytes to tell; 0 when there is nothing
    to drop (the first frame carries audio, or ``data`` does not start with a frame).
    """
    if len(data) < HEADER_BYTES:
        return None
    length = layer3_frame_length(data[:HEADER_BYTES])
    if length is None:
        return 0
    if len(data) < length:
        return None
    return 0 if any(data[HEADER_BYTES:length]) else length
