"""The scheduler on the real demo engine, in-process: batching, fairness,
cancellation between ODE steps, failure isolation, shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import torch

from app.core.config import Settings
from app.core.errors import ServiceError
from app.core.metrics import Metrics
from app.models.jobs import JobParams
from app.services.engine import EngineService
from app.services.planner import SynthesisPlanner
from app.services.scheduler import ScheduledJob, Scheduler
from app.services.text_frontend import BasicTextFrontend
from app.services.voice_library import VoiceLibrary
from tests.app.service_process import LONG_TEXT, SHIPPED_VOICES


@pytest.fixture(scope="module")
def engine() -> EngineService:
    engine = EngineService(Settings(_env_file=None, demo=True))
    engine.load()
    engine.mark_ready()
    return engine


@pytest.fixture(scope="module")
def planner(engine: EngineService) -> SynthesisPlanner:
    return SynthesisPlanner(engine, VoiceLibrary(SHIPPED_VOICES, "main"), BasicTextFrontend())


class RecordingEvents:
    """What the JobService would be told, in order."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.synthesized: dict[str, list[Any]] = {}
        self.failed: dict[str, ServiceError] = {}
        self.finished = asyncio.Event()
        self.expected = 0

    def job_started(self, job: ScheduledJob) -> None:
        self.started.append(job.id)

    def job_progress(self, job: ScheduledJob) -> None:
        pass

    async def job_synthesized(self, job: ScheduledJob, waves: list[Any]) -> None:
        self.synthesized[job.id] = waves
        self._check()

    def job_failed(self, job: ScheduledJob, error: ServiceError) -> None:
        self.failed[job.id] = error
        self._check()

    def _check(self) -> None:
        if len(self.synthesized) + len(self.failed) >= self.expected:
            self.finished.set()

    async def wait_for(self, count: int, timeout: float = 120.0) -> None:
        self.expected = count
        self._check()
        await asyncio.wait_for(self.finished.wait(), timeout)


_arrival = itertools.count()


def _job(planner: SynthesisPlanner, job_id: str, text: str, nfe_step: int = 4, plan: bool = True) -> ScheduledJob:
    params = JobParams(text=text, voice="main", speed=1.0, seed=7, nfe_step=nfe_step, cfg_strength=2.0)
    job = ScheduledJob(id=job_id, seq=next(_arrival), params=params, created_at=0.0)
    if plan:
        job.set_plan(planner.plan(params))
    return job


def _scheduler(engine, planner, events, **settings_values) -> Scheduler:
    settings = Settings(_env_file=None, demo=True, batch_wait_seconds=0, **settings_values)
    return Scheduler(settings, engine, planner, Metrics(), events, ThreadPoolExecutor(1))


async def _wait_until(predicate, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_jobs_waiting_together_share_one_forward_pass(engine, planner) -> None:
    events = RecordingEvents()
    scheduler = _scheduler(engine, planner, events)
    for i in range(4):
        scheduler.submit(_job(planner, f"j{i}", f"câu số {i}"))
    scheduler.submit(_job(planner, "unplanned", "lên kế hoạch trong bộ lập lịch", plan=False))
    scheduler.start()
    await events.wait_for(5)
    assert set(events.synthesized) == {"j0", "j1", "j2", "j3", "unplanned"} and not events.failed
    assert scheduler.stats.batches == 1 and scheduler.stats.last_size == 5 and scheduler.stats.last_jobs == 5
    for waves in events.synthesized.values():
        assert all(isinstance(wave, np.ndarray) and wave.size > 0 for wave in waves)
    await scheduler.stop(5)


async def test_a_short_job_overtakes_the_rest_of_a_long_one(engine, planner) -> None:
    events = RecordingEvents()
    scheduler = _scheduler(engine, planner, events, max_batch_items=1)
    long_job = _job(planner, "long", LONG_TEXT)
    assert long_job.chunks_total >= 3
    scheduler.submit(long_job)
    scheduler.start()
    await _wait_until(lambda: events.started == ["long"])
    scheduler.submit(_job(planner, "short", "ngắn thôi"))
    await events.wait_for(2)
    assert list(events.synthesized) == ["short", "long"]
    assert len(events.synthesized["long"]) == long_job.chunks_total
    await scheduler.stop(5)


async def test_a_job_dropped_mid_batch_stops_and_the_others_finish(engine, planner) -> None:
    events = RecordingEvents()
    scheduler = _scheduler(engine, planner, events)
    doomed = _job(planner, "doomed", LONG_TEXT[:200], nfe_step=32)
    survivor = _job(planner, "survivor", "tôi sẽ xong", nfe_step=32)
    scheduler.submit(doomed)
    scheduler.submit(survivor)
    scheduler.start()
    await _wait_until(lambda: (scheduler.progress("doomed") or {}).get("step", 0) > 0)
    live = scheduler.progress("doomed")
    assert live is not None and live["total_steps"] == 32 and 0 < live["fraction"] < 1
    assert scheduler.queue_position("doomed") == 0
    assert scheduler.expired(doomed.started_at + 3601) == [doomed, survivor]  # type: ignore[operator]
    assert scheduler.expired(doomed.started_at) == []  # type: ignore[arg-type]
    assert scheduler.drop("doomed") is doomed
    await events.wait_for(1)
    assert list(events.synthesized) == ["survivor"] and not events.failed
    assert scheduler.stats.batches == 1
    assert scheduler.progress("doomed") is None and scheduler.unfinished_count == 0
    await scheduler.stop(5)


async def test_a_failing_job_fails_alone(engine, planner) -> None:
    events = RecordingEvents()
    scheduler = _scheduler(engine, planner, events)
    good = _job(planner, "good", "tôi không sao")
    bad = _job(planner, "bad", "tôi hỏng rồi")
    # A reference with the wrong mel width: the engine raises when it builds the batch.
    chunk = bad.chunks[0]  # type: ignore[index]
    broken_reference = dataclasses.replace(chunk.reference, mel=torch.zeros(chunk.reference.frames, 7))
    bad.set_plan([dataclasses.replace(chunk, reference=broken_reference)])
    scheduler.submit(good)
    scheduler.submit(bad)
    scheduler.start()
    await events.wait_for(2)
    assert list(events.synthesized) == ["good"]
    assert events.failed["bad"].code == "synthesis_failed"
    await scheduler.stop(5)


async def test_invalid_text_found_while_planning_fails_the_job(engine, planner) -> None:
    events = RecordingEvents()
    scheduler = _scheduler(engine, planner, events)
    scheduler.submit(_job(planner, "empty", " \n ", plan=False))
    scheduler.start()
    await events.wait_for(1)
    assert events.failed["empty"].code == "invalid_text" and events.failed["empty"].status_code == 422
    await scheduler.stop(5)


async def test_stop_finishes_the_batch_and_returns_what_is_left(engine, planner) -> None:
    events = RecordingEvents()
    scheduler = _scheduler(engine, planner, events, max_batch_items=1)
    long_job = _job(planner, "long", LONG_TEXT)
    waiting = _job(planner, "waiting", "chưa tới lượt", nfe_step=8)
    scheduler.submit(long_job)
    scheduler.start()
    await _wait_until(lambda: scheduler.stats.batches == 0 and events.started == ["long"])
    scheduler.submit(waiting)
    unfinished = await scheduler.stop(30)
    assert sorted(unfinished) == ["long", "waiting"]
    assert scheduler.stats.batches == 1  # the running batch was allowed to finish
    assert not events.synthesized and not events.failed


async def test_a_burst_of_new_jobs_is_planned_side_by_side(engine, planner) -> None:
    """Each plan waits until all three have started: planned one after another, none would finish."""
    barrier = threading.Barrier(3, timeout=30)

    class MeetingPlanner:
        def plan(self, params: JobParams, *args: Any) -> list[Any]:
            barrier.wait()
            return planner.plan(params)

    events = RecordingEvents()
    settings = Settings(_env_file=None, demo=True, batch_wait_seconds=0)
    scheduler = Scheduler(settings, engine, MeetingPlanner(), Metrics(), events, ThreadPoolExecutor(3))
    for i in range(3):
        scheduler.submit(_job(planner, f"b{i}", f"câu thứ {i}", plan=False))
    scheduler.start()
    await events.wait_for(3, timeout=60)
    assert set(events.synthesized) == {"b0", "b1", "b2"} and not events.failed
    assert scheduler.stats.batches == 1  # planned together, so they share the first forward pass
    await scheduler.stop(5)
