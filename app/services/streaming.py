"""Streaming synthesis: a job's audio, chunk by chunk, as the scheduler finishes it.

A streamed job is an ordinary scheduler job (recorded, batched with
everything else, written to ``OUTPUT_DIR`` at the end) with three twists:

- its first chunk is cut short (``shorten_first_chunk``) so the first audio
  comes back after a small forward pass instead of a full-length chunk;
- it takes few of its own chunks per batch at first (``stream_chunk_cap``:
  1, 2, 4, 8, 16), so those short first batches are not held up by the
  chunks after them;
- its waves are handed to readers as each batch finishes (``ChunkFeed``),
  joined with the same cross-fade as the stored file (``CrossFadeJoiner``)
  and encoded on the fly (``EncodedStream``).

No web code here: the HTTP, OpenAI and WebSocket routes build on these.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from app.core.errors import (
    JobCancelledError,
    ServiceError,
    SynthesisFailedError,
    error_from_code,
)
from app.models.jobs import JobRecord, JobStatus
from app.services.audio import AudioFormat, StreamEncoder
from app.services.output_storage import read_audio

if TYPE_CHECKING:
    from app.services.engine import EngineService
    from app.services.scheduler import ScheduledJob

# Seconds of linear cross-fade between chunks: the engine's ``join`` default,
# so a stream carries exactly the samples of the stored file.
CROSS_FADE_SECONDS = 0.15

# A head shorter than this is not worth its own forward pass (and the engine
# stretches texts under 10 bytes), so the cut moves right or does not happen.
MIN_HEAD_BYTES = 16
# Nor is a tail this short worth a second chunk.
MIN_TAIL_BYTES = 16

_CLAUSE_END = re.compile(r"[.!?;:,…]['\"”’»)\]]*$")

# Encoding is blocking CPU work (MP3 ~12 ms, Opus ~20 ms per second of audio):
# never on the event loop. Shared by every stream; one call at a time per stream.
_ENCODE_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="encode")


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))


# --- the short first chunk -----------------------------------------------------------------


def split_head(text: str, max_bytes: int) -> tuple[str, str] | None:
    """Cut ``text`` into a head of at most ``max_bytes`` UTF-8 bytes and the rest,
    between words: at the last clause punctuation that fits (if the head is then at
    least a third of the budget), else after the last word that fits. ``None`` when
    the text already fits or no useful cut exists (a head or tail too short)."""
    if max_bytes <= 0 or _utf8_len(text) <= max_bytes:
        return None
    words = text.split(" ")
    used = -1
    best_word = best_clause = 0  # number of words in the head
    for count, word in enumerate(words[:-1], start=1):
        used += 1 + _utf8_len(word)
        if used > max_bytes:
            break
        if used >= MIN_HEAD_BYTES:
            best_word = count
            if _CLAUSE_END.search(word) and used * 3 >= max_bytes:
                best_clause = count
    cut = best_clause or best_word
    if cut == 0:
        return None
    head, tail = " ".join(words[:cut]).strip(), " ".join(words[cut:]).strip()
    if not head or _utf8_len(tail) < MIN_TAIL_BYTES:
        return None
    return head, tail


def shorten_first_chunk(engine: EngineService, chunks: list[Any], speed: float, max_bytes: int) -> list[Any]:
    """The engine's plan with its first chunk split in two when it holds more than
    ``max_bytes`` of text (``max_bytes`` <= 0: unchanged). Blocking (plans on the
    engine): call it where the planner runs."""
    if max_bytes <= 0 or not chunks:
        return chunks
    first = chunks[0]
    cut = split_head(first.text, max_bytes)
    if cut is None:
        return chunks
    head, tail = cut
    options = {
        "speed": speed,
        "nfe_step": first.nfe_step,
        "cfg_strength": first.cfg_strength,
        "sway_sampling_coef": first.sway_sampling_coef,
    }
    head_chunks = engine.plan(first.reference, head, seed=first.seed, **options)
    # A seed no other chunk of the job uses (they have seed + 1 .. seed + n - 1).
    tail_seed = (first.seed + len(chunks)) % 2**63
    tail_chunks = engine.plan(first.reference, tail, seed=tail_seed, **options)
    return [*head_chunks, *tail_chunks, *chunks[1:]]


def stream_chunk_cap(batches_done: int) -> int:
    """How many of a streamed job's chunks its next batch may take: 1, 2, 4, 8, 16, ...

    The first batch holds only the short first chunk, so first audio is as fast as
    a small forward pass allows; doubling after that keeps audio ahead of playback
    while reaching full batches (the throughput of unstreamed jobs) within a few rounds.
    """
    return 1 << min(max(batches_done, 0), 4)


# --- joining ---------------------------------------------------------------------------------


class CrossFadeJoiner:
    """The engine's ``join`` (linear cross-fade between chunks) one chunk at a time.

    ``push(w1) + push(w2) + ... + finish()`` equals ``engine.join([w1, w2, ...])``
    sample for sample. Each push returns what is final; the last ``fade`` samples
    (150 ms) are held back until the next chunk, to be mixed with its start.
    """

    def __init__(self, fade: int) -> None:
        self.fade = max(int(fade), 0)
        self._tail = np.zeros(0, dtype=np.float32)
        self._total = 0  # samples of output so far, the held tail included
        self._pushed = False

    def push(self, wave: np.ndarray) -> np.ndarray:
        nxt = np.asarray(wave, dtype=np.float32)
        if nxt.ndim != 1:
            raise ValueError(f"each wave must be 1-D, got shape {nxt.shape}")
        if not self._pushed:
            self._pushed = True
            out = nxt
        else:
            n = min(self.fade, self._total, nxt.shape[0])
            if n == 0:
                out = np.concatenate([self._tail, nxt])
            else:
                fade_out = np.linspace(1.0, 0.0, n, dtype=np.float32)
                fade_in = np.linspace(0.0, 1.0, n, dtype=np.float32)
                mixed = self._tail[-n:] * fade_out + nxt[:n] * fade_in
                out = np.concatenate([self._tail[: self._tail.shape[0] - n], mixed, nxt[n:]])
        self._total += out.shape[0] - self._tail.shape[0]
        keep = min(self.fade, self._total)
        split = out.shape[0] - keep
        self._tail = out[split:]
        return out[:split]

    def finish(self) -> np.ndarray:
        tail, self._tail = self._tail, np.zeros(0, dtype=np.float32)
        return tail


# --- feeds: a job's waves as they come -------------------------------------------------------


class Feed(Protocol):
    sample_rate: int

    async def next_wave(self, timeout: float | None = None) -> np.ndarray | None: ...


def error_for(record: JobRecord | None) -> ServiceError:
    """The error a reader of a job that ended without (all of) its audio gets."""
    if record is None:
        return SynthesisFailedError("the job disappeared")
    if record.status is JobStatus.cancelled:
        return JobCancelledError(f"job {record.id!r} was cancelled")
    if record.status is JobStatus.failed:
        return error_from_code(record.error_code or "synthesis_failed", record.error_message or "the job failed")
    return SynthesisFailedError(f"job {record.id!r} ended without its audio ({record.status.value})")


class ChunkFeed:
    """The waveforms of one scheduled job's chunks, in order, as batches finish.

    Event-loop only. The job service calls ``wake()`` when the scheduler hands
    back chunks of the job or the job ends, and ``fail()`` at shutdown. A feed
    opened late still gets every chunk from the first (the job keeps them).
    """

    def __init__(self, job: ScheduledJob, sample_rate: int, lookup: Callable[[], JobRecord | None]) -> None:
        self.job = job
        self.sample_rate = sample_rate
        self._lookup = lookup
        self._cursor = 0
        self._event = asyncio.Event()
        self._error: ServiceError | None = None
        self.complete = False

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def chunks_delivered(self) -> int:
        return self._cursor

    def wake(self) -> None:
        self._event.set()

    def fail(self, error: ServiceError) -> None:
        self._error = error
        self._event.set()

    async def next_wave(self, timeout: float | None = None) -> np.ndarray | None:
        """The next chunk's audio; ``None`` once every chunk has been given.

        Raises ``TimeoutError`` when nothing came within ``timeout`` seconds (the
        feed stays usable), or the job's error if it failed or was cancelled.
        """
        while True:
            job = self.job
            if job.chunks is not None:
                if self._cursor < len(job.waves) and job.waves[self._cursor] is not None:
                    wave = job.waves[self._cursor]
                    self._cursor += 1
                    return wave
                if self._cursor >= len(job.waves):
                    self.complete = True
                    return None
            if self._error is not None:
                raise self._error
            if job.dropped:
                record = self._lookup()
                if record is None or record.status.finished:
                    raise error_for(record)
            self._event.clear()
            if timeout is None:
                await self._event.wait()
            else:
                await asyncio.wait_for(self._event.wait(), timeout)


class FileFeed:
    """A finished job's stored audio as a single wave (a stream request naming a
    job_id that already completed is answered from its file, never synthesized again)."""

    def __init__(self, path: Path, sample_rate: int) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self._given = False
        self.complete = False

    async def next_wave(self, timeout: float | None = None) -> np.ndarray | None:
        if self._given:
            self.complete = True
            return None
        loop = asyncio.get_running_loop()
        wave, rate = await loop.run_in_executor(_ENCODE_POOL, read_audio, self.path, self.sample_rate)
        self.sample_rate = rate
        self._given = True
        return wave


# --- encoding ----------------------------------------------------------------------------------


class EncodedStream:
    """A feed's audio joined and encoded in ``fmt``, as bytes ready to send.

    ``read()`` returns the next non-empty piece (the WAV header first), ``None`` at
    the end; ``async for data in stream`` does the same. ``close()`` (always, e.g.
    in a ``finally``) releases the encoder even when the client went away.
    Build it with ``await EncodedStream.open(...)`` on the event loop (the
    encoder is set up in the encoding threads); the constructor blocks.
    """

    def __init__(
        self,
        feed: Feed,
        fmt: AudioFormat | str,
        target_rate: int | None = None,
        cross_fade_seconds: float = CROSS_FADE_SECONDS,
        *,
        encoder: StreamEncoder | None = None,
    ) -> None:
        self.feed = feed
        # UnsupportedFormatError for flac.
        self.encoder = encoder if encoder is not None else StreamEncoder(fmt, feed.sample_rate, target_rate)
        self.joiner = CrossFadeJoiner(round(cross_fade_seconds * feed.sample_rate))
        self.bytes_out = 0
        self.chunks = 0
        self._header_done = False
        self._finished = False
        self._inflight: concurrent.futures.Future[bytes] | None = None

    @classmethod
    async def open(
        cls, feed: Feed, fmt: AudioFormat | str, target_rate: int | None = None, **options: Any
    ) -> EncodedStream:
        """Like the constructor, with libsndfile's encoder set up off the event loop."""
        loop = asyncio.get_running_loop()
        encoder = await loop.run_in_executor(_ENCODE_POOL, StreamEncoder, fmt, feed.sample_rate, target_rate)
        return cls(feed, fmt, target_rate, encoder=encoder, **options)

    @property
    def format(self) -> AudioFormat:
        return self.encoder.format

    @property
    def media_type(self) -> str:
        return self.encoder.media_type

    @property
    def output_rate(self) -> int:
        return self.encoder.output_rate

    @property
    def samples(self) -> int:
        """Samples encoded so far, at ``output_rate``."""
        return self.encoder.samples_written

    @property
    def duration(self) -> float:
        return self.samples / self.output_rate

    @property
    def finished(self) -> bool:
        return self._finished

    async def read(self, timeout: float | None = None) -> bytes | None:
        """The next bytes to send (never empty); ``None`` when the stream is complete.

        ``timeout`` bounds the wait for the next chunk: ``TimeoutError`` then, and
        the stream stays usable. Job failures surface as the job's ``ServiceError``.
        """
        if not self._header_done:
            self._header_done = True
            header = self.encoder.header()
            if header:
                return self._count(header)
        while not self._finished:
            wave = await self.feed.next_wave(timeout)
            if wave is None:
                data = await self._run(self._finish)
                self._finished = True
            else:
                self.chunks += 1
                data = await self._run(self._encode, wave)
            if data:
                return self._count(data)
        return None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (data := await self.read()) is not None:
            yield data

    def close(self) -> None:
        """Release the encoder (idempotent), in the encoding threads. If a call is
        still running there (the reader was cancelled), the release waits for it."""
        inflight = self._inflight
        if inflight is not None and not inflight.done():
            inflight.add_done_callback(lambda _: self.encoder.close())
        else:
            _ENCODE_POOL.submit(self.encoder.close)

    # --- in the encoding thread ---
    def _encode(self, wave: np.ndarray) -> bytes:
        return self.encoder.encode(self.joiner.push(wave))

    def _finish(self) -> bytes:
        data = self.encoder.encode(self.joiner.finish())
        return data + self.encoder.finish()

    async def _run(self, fn: Callable[..., bytes], *args: Any) -> bytes:
        future = _ENCODE_POOL.submit(fn, *args)
        self._inflight = future
        return await asyncio.wrap_future(future)

    def _count(self, data: bytes) -> bytes:
        self.bytes_out += len(data)
        return data
