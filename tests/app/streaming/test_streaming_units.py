"""Streaming pieces without a server: the short first chunk, the cross-fade
joiner, the batch cap of streamed jobs, chunk feeds and encoded streams."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import itertools
import time
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from app.core.errors import JobCancelledError, SynthesisFailedError
from app.models.jobs import JobMode, JobParams, JobRecord, JobStatus
from app.services.audio import UnsupportedFormatError, encode
from app.services.batching import PendingChunk, PendingJob, form_batch
from app.services.scheduler import ScheduledJob
from app.services.streaming import (
    MIN_TAIL_BYTES,
    ChunkFeed,
    CrossFadeJoiner,
    EncodedStream,
    shorten_first_chunk,
    split_head,
    stream_chunk_cap,
)
from f5_tts.audio import cross_fade_join

PARAMS = JobParams(text="x", voice="main", speed=1.0, seed=5, nfe_step=4, cfg_strength=2.0)


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


# --- the short first chunk ---------------------------------------------------------------


def test_split_head_cuts_at_the_last_clause_that_fits() -> None:
    text = "xin chào các bạn, hôm nay trời rất đẹp và chúng ta cùng nhau đi dạo quanh hồ gươm."
    head, tail = split_head(text, 40)  # type: ignore[misc]
    assert head == "xin chào các bạn,"
    assert f"{head} {tail}" == text


def test_split_head_cuts_between_words_when_no_clause_fits() -> None:
    text = "một hai ba bốn năm sáu bảy tám chín mười mười một mười hai mười ba mười bốn mười lăm"
    head, tail = split_head(text, 30)  # type: ignore[misc]
    assert _bytes(head) <= 30 and _bytes(head) >= 16
    assert f"{head} {tail}" == text
    # The cut uses as much of the budget as whole words allow.
    next_word = tail.split(" ")[0]
    assert _bytes(head) + 1 + _bytes(next_word) > 30


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("ngắn thôi", 64),  # fits
        ("abcd efgh ijkl mnop qrst uvwx yzab cdef ghij", 40),  # the tail would be under MIN_TAIL_BYTES
        ("supercalifragilisticexpialidocious-và-nhiều-nữa là một từ", 16),  # first word over budget
        ("abc def ghi jkl mno pqr stu vwx yz", 0),  # splitting disabled
    ],
)
def test_split_head_declines_useless_cuts(text: str, budget: int) -> None:
    assert split_head(text, budget) is None


def test_split_head_never_leaves_a_tiny_tail() -> None:
    text = "a" * 10 + " " + "b" * 10 + " " + "c" * 10 + " " + "d" * 5
    result = split_head(text, 33)
    assert result is None or _bytes(result[1]) >= MIN_TAIL_BYTES


@dataclasses.dataclass
class _Chunk:
    reference: Any
    text: str
    seed: int
    nfe_step: int = 4
    cfg_strength: float = 2.0
    sway_sampling_coef: float | None = -1.0


class _PlanningEngine:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def plan(self, reference: Any, text: str, **options: Any) -> list[_Chunk]:
        self.calls.append((text, options))
        return [_Chunk(reference, text, options["seed"], options["nfe_step"])]


def test_shorten_first_chunk_replans_only_the_first_chunk() -> None:
    engine = _PlanningEngine()
    first_text = "xin chào các bạn, hôm nay trời rất đẹp và chúng ta cùng nhau đi dạo quanh hồ."
    chunks = [_Chunk("ref", first_text, 100), _Chunk("ref", "câu thứ hai.", 101), _Chunk("ref", "ba.", 102)]
    out = shorten_first_chunk(engine, chunks, 0.9, 40)  # type: ignore[arg-type]
    assert [c.text for c in out] == [
        "xin chào các bạn,",
        first_text[len("xin chào các bạn, ") :],
        "câu thứ hai.",
        "ba.",
    ]
    assert out[2:] == chunks[1:]
    assert out[0].seed == 100 and out[1].seed not in (100, 101, 102)
    assert all(options["speed"] == 0.9 and options["nfe_step"] == 4 for _, options in engine.calls)
    # Disabled, or nothing to cut: the plan is returned unchanged.
    assert shorten_first_chunk(engine, chunks, 0.9, 0) is chunks  # type: ignore[arg-type]
    assert shorten_first_chunk(engine, chunks[1:], 0.9, 40) == chunks[1:]  # type: ignore[arg-type]


def test_a_streamed_job_takes_few_of_its_chunks_per_batch_at_first() -> None:
    assert [stream_chunk_cap(n) for n in range(7)] == [1, 2, 4, 8, 16, 16, 16]
    stream = PendingJob("s", arrival=0, served=0, chunks=[PendingChunk(i, 100, "k") for i in range(6)], max_take=1)
    other = PendingJob("o", arrival=1, served=0, chunks=[PendingChunk(i, 100, "k") for i in range(6)])
    batch = form_batch([stream, other], max_items=8, max_frames=10_000)
    assert batch.count(("s", 0)) == 1 and sum(1 for job, _ in batch if job == "s") == 1
    assert sum(1 for job, _ in batch if job == "o") == 6  # the other job fills the rest
    two = dataclasses.replace(stream, max_take=2)
    assert form_batch([two], max_items=8, max_frames=10_000) == [("s", 0), ("s", 1)]


def test_streams_waiting_for_first_audio_get_a_batch_of_first_chunks() -> None:
    def job(job_id: str, arrival: int, frames: list[int], urgent: bool = False, served: int = 0) -> PendingJob:
        chunks = [PendingChunk(i, n, "k") for i, n in enumerate(frames)]
        return PendingJob(job_id, arrival, served, chunks, max_take=1 if urgent else None, urgent=urgent)

    older = job("old", 0, [1800, 1800])  # arrived first, nothing served yet
    served = job("busy", 1, [900, 1800], served=2)
    heads = [job("s1", 2, [600, 1800], urgent=True), job("s2", 3, [700], urgent=True)]
    long_head = job("s3", 4, [1500, 1800], urgent=True)  # a first chunk left long
    batch = form_batch([older, served, *heads, long_head], max_items=16, max_frames=40_000)
    # Urgent jobs win the tie on served; the batch holds only short first chunks of streams.
    assert batch == [("s1", 0), ("s2", 0)]
    # Once they have their first audio, streams share batches with everything else.
    later = [job("s1", 2, [1800], served=1), job("s2", 3, [], served=1)]
    assert form_batch([older, served, *later], max_items=16, max_frames=40_000) == [
        ("old", 0),
        ("s1", 0),
        ("busy", 0),
        ("old", 1),
        ("busy", 1),
    ]


# --- the cross-fade joiner ---------------------------------------------------------------


@pytest.mark.parametrize("lengths", [[5000], [5000, 8000, 3000], [100, 5000], [5000, 100, 7000], [0, 4000, 0, 50]])
def test_joiner_gives_exactly_the_engines_join(lengths: list[int]) -> None:
    rng = np.random.default_rng(len(lengths))
    waves = [rng.uniform(-0.5, 0.5, n).astype(np.float32) for n in lengths]
    joiner = CrossFadeJoiner(3600)
    pieces = [joiner.push(wave) for wave in waves] + [joiner.finish()]
    streamed = np.concatenate(pieces)
    expected = cross_fade_join(waves, 24000, 0.15)
    assert streamed.dtype == np.float32 and streamed.shape == expected.shape
    assert np.array_equal(streamed, expected)


def test_joiner_holds_back_only_the_fade() -> None:
    joiner = CrossFadeJoiner(3600)
    assert joiner.push(np.ones(10_000, dtype=np.float32)).shape[0] == 10_000 - 3600
    assert joiner.push(np.ones(1000, dtype=np.float32)).shape[0] == 0  # all of it still overlaps the fade
    assert joiner.finish().shape[0] == 3600


# --- feeds -----------------------------------------------------------------------------------

_seq = itertools.count()


@dataclasses.dataclass
class _Planned:
    frames: int = 100


def _scheduled(waves: int) -> ScheduledJob:
    job = ScheduledJob(id=f"job{next(_seq)}", seq=0, params=PARAMS, created_at=0.0)
    job.set_plan([_Planned() for _ in range(waves)])
    return job


def _record(job_id: str, status: JobStatus, code: str | None = None) -> JobRecord:
    return JobRecord(
        id=job_id, status=status, mode=JobMode.stream, params=PARAMS, created_at=0.0, error_code=code, error_message="m"
    )


async def test_feed_gives_chunks_in_order_as_they_arrive() -> None:
    job = _scheduled(3)
    feed = ChunkFeed(job, 24000, lambda: None)
    job.waves[1] = np.full(10, 1.0, dtype=np.float32)  # out of order: held until chunk 0 is there
    with pytest.raises(TimeoutError):
        await feed.next_wave(timeout=0.05)
    reader = asyncio.create_task(feed.next_wave())
    await asyncio.sleep(0.01)
    assert not reader.done()
    job.waves[0] = np.full(10, 0.0, dtype=np.float32)
    feed.wake()
    assert (await reader)[0] == 0.0
    assert (await feed.next_wave())[0] == 1.0
    job.waves[2] = np.full(10, 2.0, dtype=np.float32)
    feed.wake()
    assert (await feed.next_wave())[0] == 2.0
    assert await feed.next_wave() is None and feed.complete


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (JobStatus.cancelled, "job_cancelled", JobCancelledError),
        (JobStatus.failed, "synthesis_failed", SynthesisFailedError),
    ],
)
async def test_feed_raises_the_jobs_error_when_it_ends_without_audio(status, code, error) -> None:
    job = _scheduled(2)
    job.waves[0] = np.zeros(5, dtype=np.float32)
    feed = ChunkFeed(job, 24000, lambda: _record(job.id, status, code))
    assert await feed.next_wave() is not None  # what was synthesized still comes first
    reader = asyncio.create_task(feed.next_wave())
    await asyncio.sleep(0.01)
    job.dropped = True
    feed.wake()
    with pytest.raises(error):
        await reader


# --- encoded streams -----------------------------------------------------------------------


class _ListFeed:
    sample_rate = 24000

    def __init__(self, waves: list[np.ndarray], delay: float = 0.0) -> None:
        self.waves = list(waves)
        self.delay = delay

    async def next_wave(self, timeout: float | None = None) -> np.ndarray | None:
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.waves.pop(0) if self.waves else None


def _speechlike(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 24000)) / 24000
    return (0.3 * np.sin(2 * np.pi * 180 * t) + 0.02 * rng.standard_normal(t.shape)).astype(np.float32)


async def _collect(stream: EncodedStream) -> list[bytes]:
    pieces = []
    try:
        async for data in stream:
            assert data
            pieces.append(data)
    finally:
        stream.close()
    return pieces


@pytest.mark.parametrize(("fmt", "rate"), [("pcm", None), ("wav", None), ("pcm", 16000), ("wav", 44100)])
async def test_stream_carries_the_samples_of_the_stored_file(fmt: str, rate: int | None) -> None:
    waves = [_speechlike(1.0, 1), _speechlike(0.4, 2), _speechlike(2.0, 3)]
    stream = await EncodedStream.open(_ListFeed(waves), fmt, rate)
    data = b"".join(await _collect(stream))
    whole = encode(cross_fade_join(waves, 24000, 0.15), 24000, fmt, target_rate=rate)
    if fmt == "wav":
        assert data[44:] == whole[44:]  # same samples; only the size fields differ (unknown length)
        assert data[4:8] == b"\xff\xff\xff\xff" and data[40:44] == b"\xff\xff\xff\xff"
    else:
        assert data == whole
    assert stream.chunks == 3 and stream.samples == len(whole[44 if fmt == "wav" else 0 :]) // 2
    assert stream.output_rate == (rate or 24000)


@pytest.mark.parametrize("fmt", ["mp3", "opus"])
async def test_compressed_streams_decode_to_the_whole_length(fmt: str) -> None:
    waves = [_speechlike(0.7, 4), _speechlike(1.3, 5)]
    stream = EncodedStream(_ListFeed(waves), fmt, 16000)
    data = b"".join(await _collect(stream))
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    expected = len(cross_fade_join(waves, 24000, 0.15)) * 16000 / 24000
    assert rate == 16000
    assert abs(len(audio) - expected) <= (2600 if fmt == "mp3" else 1)  # mp3: encoder delay + padding


def test_flac_cannot_be_streamed() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        EncodedStream(_ListFeed([]), "flac")
    assert "wav" in info.value.allowed and "flac" not in info.value.allowed


async def test_closing_while_a_chunk_is_being_encoded_is_safe() -> None:
    stream = EncodedStream(_ListFeed([_speechlike(3.0, 6)] * 3), "opus")
    reader = asyncio.create_task(stream.read())
    await asyncio.sleep(0)  # the read has started
    reader.cancel()
    stream.close()  # waits for the encoder thread before releasing libsndfile
    await asyncio.gather(reader, return_exceptions=True)
    deadline = time.monotonic() + 5
    while not stream.encoder._closed and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert stream.encoder._closed
