"""Encoding audio that arrives in chunks into bytes that can be sent at once.

``header() + encode(c1) + encode(c2) + ... + finish()`` is a complete file
that libsndfile reads back with the full length:

- wav: a 44-byte header whose size fields say "unknown" (0xFFFFFFFF), then
  PCM16 as it comes. Readers that trust the sizes (rare) see a 4 GiB file;
  libsndfile, Python's ``wave`` and browsers read to the real end.
- pcm: the PCM16 samples, nothing else.
- mp3: LAME frames as LAME emits them, minus the placeholder first frame
  (see ``mp3.py``). Without that LAME/Xing header a decoder cannot trim the
  encoder delay (~1100 samples at the start) and the last frame's padding,
  so the decoded stream is up to ~2 frames longer than the audio, all silence.
- opus: Ogg pages as libsndfile closes them (every ~100 ms of audio).
  Ogg Opus needs no rewrite at the end; the decoded length is exact.

FLAC cannot be streamed (``AudioFormat.streamable``).

Each ``encode`` returns what the encoder has released so far: for wav/pcm
all of the chunk; for mp3 all but LAME's look-ahead (~1-2 frames); for opus
all but the current Ogg page. ``finish`` returns the rest.
"""

from __future__ import annotations

import numpy as np
import soundfile as sf

from app.services.audio.codec import open_writer
from app.services.audio.errors import UnsupportedFormatError
from app.services.audio.formats import (
    DEFAULT_SAMPLE_RATE,
    STREAMABLE_FORMAT_NAMES,
    AudioFormat,
    check_sample_rate,
    output_sample_rate,
)
from app.services.audio.mp3 import placeholder_frame_length
from app.services.audio.pcm import to_pcm16, wav_header
from app.services.audio.resample import Resampler
from app.services.audio.sink import ByteSink


class StreamEncoder:
    """Encodes one stream of mono float audio into ``fmt``, chunk by chunk.

    Blocking CPU work, like ``encode``: call it in an executor, one call at a
    time per stream (any thread). ``close()`` (or leaving a ``with`` block)
    abandons a stream that will not be finished, e.g. after a disconnect.
    """

    def __init__(
        self,
        fmt: AudioFormat | str,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        target_rate: int | None = None,
    ) -> None:
        self.format = AudioFormat.parse(fmt)
        if not self.format.streamable:
            raise UnsupportedFormatError(
                f"audio format {self.format.value!r} cannot be streamed; "
                f"use one of: {', '.join(STREAMABLE_FORMAT_NAMES)}",
                value=self.format.value,
                allowed=STREAMABLE_FORMAT_NAMES,
            )
        self.input_rate = check_sample_rate(sample_rate)
        self.output_rate = output_sample_rate(self.format, sample_rate if target_rate is None else target_rate)
        self._resampler = Resampler(self.input_rate, self.output_rate)
        self._header_sent = False
        self._finished = False
        self._closed = False
        self._samples_written = 0  # at the output rate
        self._sink: ByteSink | None = None
        self._writer: sf.SoundFile | None = None
        if self.format in (AudioFormat.MP3, AudioFormat.OPUS):
            self._sink = ByteSink()
            self._writer = open_writer(self.format, self.output_rate, self._sink)
        # MP3: bytes held until the first frame can be inspected; None once it has been.
        self._mp3_head: bytes | None = b"" if self.format is AudioFormat.MP3 else None

    @property
    def media_type(self) -> str:
        return self.format.media_type

    @property
    def samples_written(self) -> int:
        """Samples (at ``output_rate``) encoded so far; their duration is this / ``output_rate``."""
        return self._samples_written

    def header(self) -> bytes:
        """Bytes that go before any audio: the WAV header, empty for the others.

        Whichever of ``header``/``encode``/``finish`` is called first emits
        them, so a caller that skips ``header()`` still sends a valid stream.
        """
        self._check_open()
        return self._take_header()

    def encode(self, chunk: np.ndarray) -> bytes:
        """Bytes ready to send after ``chunk`` (mono float at ``sample_rate``)."""
        self._check_open()
        samples = self._resampler.process(chunk)  # validates and clips too
        return self._take_header() + self._encode_samples(samples)

    def finish(self) -> bytes:
        """The remaining bytes; after this the stream is complete and closed."""
        self._check_open()
        out = self._take_header() + self._encode_samples(self._resampler.flush())
        if self._writer is not None:
            if self._samples_written == 0:
                # libsndfile writes no readable MP3/Opus without a sample (as in ``encode``).
                out += self._encode_samples(np.zeros(1, dtype=np.float32))
            self._writer.close()
            out += self._release()
        self._finished = True
        self.close()
        return out

    def close(self) -> None:
        """Release the encoder; what it still held is dropped. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None and not self._writer.closed:
            self._writer.close()

    def __enter__(self) -> StreamEncoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals ---
    def _check_open(self) -> None:
        if self._finished:
            raise RuntimeError("the stream is already finished")
        if self._closed:
            raise RuntimeError("the stream encoder is closed")

    def _take_header(self) -> bytes:
        if self._header_sent:
            return b""
        self._header_sent = True
        if self.format is AudioFormat.WAV:
            return wav_header(self.output_rate, None)
        return b""

    def _encode_samples(self, samples: np.ndarray) -> bytes:
        self._samples_written += samples.shape[0]
        if self._writer is None:  # wav, pcm
            return to_pcm16(samples).tobytes()
        if samples.shape[0]:
            self._writer.write(np.clip(samples, -1.0, 1.0))
        return self._release()

    def _release(self) -> bytes:
        assert self._sink is not None
        data = self._sink.take()
        if self._mp3_head is None:
            return data
        # Hold MP3 output until the first frame is whole, then drop it if it is
        # LAME's blank placeholder.
        head = self._mp3_head + data
        drop = placeholder_frame_length(head)
        if drop is None and self._writer is not None and not self._writer.closed:
            self._mp3_head = head
            return b""
        self._mp3_head = None
        return head[drop or 0 :]
