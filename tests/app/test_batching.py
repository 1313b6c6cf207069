"""The batch formation policy."""

from __future__ import annotations

from app.services.batching import PendingChunk, PendingJob, form_batch

KEY = (32, -1.0)


def _job(job_id: str, arrival: int, frames: list[int], served: int = 0, key=KEY, first_index: int = 0) -> PendingJob:
    chunks = [PendingChunk(first_index + i, f, key) for i, f in enumerate(frames)]
    return PendingJob(job_id, arrival, served, chunks)


def test_nothing_waiting_gives_an_empty_batch() -> None:
    assert form_batch([], 8, 10_000) == []
    assert form_batch([_job("a", 0, [])], 8, 10_000) == []


def test_jobs_that_arrive_together_share_one_batch() -> None:
    jobs = [_job(f"j{i}", i, [500]) for i in range(10)]
    batch = form_batch(jobs, 16, 100_000)
    assert batch == [(f"j{i}", 0) for i in range(10)]


def test_the_item_limit_holds_and_one_means_no_batching() -> None:
    jobs = [_job(f"j{i}", i, [500]) for i in range(10)]
    assert len(form_batch(jobs, 4, 100_000)) == 4
    assert form_batch(jobs, 1, 100_000) == [("j0", 0)]


def test_the_frame_budget_holds_but_a_huge_chunk_still_runs_alone() -> None:
    jobs = [_job("a", 0, [600]), _job("b", 1, [600]), _job("c", 2, [300])]
    # a + b would exceed 1000; c still fits after a.
    assert form_batch(jobs, 16, 1000) == [("a", 0), ("c", 0)]
    assert form_batch([_job("huge", 0, [50_000])], 16, 1000) == [("huge", 0)]


def test_a_lone_long_job_fills_the_batch_with_its_chunks_in_order() -> None:
    assert form_batch([_job("long", 0, [400] * 10)], 4, 100_000) == [("long", i) for i in range(4)]


def test_a_new_short_job_goes_before_the_rest_of_a_long_one() -> None:
    long_job = _job("long", 0, [400] * 6, served=4, first_index=4)
    short_job = _job("short", 1, [400])
    batch = form_batch([long_job, short_job], 2, 100_000)
    assert batch[0] == ("short", 0)
    assert batch == [("short", 0), ("long", 4)]


def test_round_robin_interleaves_jobs() -> None:
    jobs = [_job("a", 0, [100] * 3), _job("b", 1, [100] * 3)]
    assert form_batch(jobs, 4, 100_000) == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]


def test_only_chunks_with_the_same_key_share_a_batch() -> None:
    jobs = [_job("a", 0, [100], key=(32, -1.0)), _job("b", 1, [100], key=(8, -1.0)), _job("c", 2, [100])]
    assert form_batch(jobs, 16, 100_000) == [("a", 0), ("c", 0)]
    # The most deserving job decides the key: the least served.
    jobs = [_job("a", 0, [100], served=3), _job("b", 1, [100], key=(8, -1.0))]
    assert form_batch(jobs, 16, 100_000) == [("b", 0)]
