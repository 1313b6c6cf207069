"""The scheduler: one asyncio task that turns waiting jobs into batched
forward passes on one GPU executor thread.

    submit() -> asyncio.Queue -> run(): admit everything waiting, plan new
    jobs (preparation thread), form a batch (batching.form_batch), run it on
    the GPU thread under the model lock, hand results back, repeat.

The event loop never runs model code; it only bookkeeps. The engine reports
ODE steps through ``progress`` and asks ``cancelled`` between steps, both from
the GPU thread: they only read and write plain attributes (atomic under the
GIL), which the event loop reads to answer progress requests.

Job state in the database and the callers' waiters belong to the JobService;
the scheduler tells it what happened through ``SchedulerEvents``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.core.config import Settings
from app.core.errors import ServiceError, SynthesisFailedError
from app.core.metrics import Metrics
from app.models.jobs import JobParams
from app.services.batching import PendingChunk, PendingJob, form_batch
from app.services.engine import EngineService, translate_engine_error
from app.services.planner import SynthesisPlanner
from app.services.streaming import shorten_first_chunk, stream_chunk_cap

logger = logging.getLogger("app.scheduler")


@dataclass(eq=False)
class ScheduledJob:
    id: str
    seq: int
    params: JobParams
    created_at: float
    chunks: list[Any] | None = None  # the engine's ChunkJobs, once planned
    pending: deque[int] = field(default_factory=deque)
    in_flight: set[int] = field(default_factory=set)
    waves: list[Any] = field(default_factory=list)
    served: int = 0
    frames_total: int = 0
    frames_done: int = 0
    started_at: float | None = None
    last_persisted: float = 0.0
    dropped: bool = False  # cancelled, failed or timed out: results are discarded
    # Streamed jobs: a short first chunk (split at this many bytes), few chunks per
    # batch at first (streaming.stream_chunk_cap), and a hook called on the event
    # loop each time a batch hands back chunks of this job.
    stream: bool = False
    first_chunk_bytes: int = 0
    batches: int = 0  # batches this job has been part of
    on_chunks: Callable[[ScheduledJob], None] | None = None

    def set_plan(self, chunks: list[Any]) -> None:
        self.chunks = chunks
        self.pending = deque(range(len(chunks)))
        self.waves = [None] * len(chunks)
        self.frames_total = sum(int(chunk.frames) for chunk in chunks) or 1

    @property
    def chunks_total(self) -> int:
        return len(self.chunks) if self.chunks is not None else 0

    @property
    def chunks_done(self) -> int:
        return self.chunks_total - len(self.pending) - len(self.in_flight)

    @property
    def finished_synthesis(self) -> bool:
        return self.chunks is not None and not self.pending and not self.in_flight


class SchedulerEvents(Protocol):
    def job_started(self, job: ScheduledJob) -> None: ...

    def job_progress(self, job: ScheduledJob) -> None: ...

    async def job_synthesized(self, job: ScheduledJob, waves: list[Any]) -> None: ...

    def job_failed(self, job: ScheduledJob, error: ServiceError) -> None: ...


@dataclass
class BatchStats:
    batches: int = 0
    chunks: int = 0
    last_size: int = 0
    last_jobs: int = 0
    last_seconds: float = 0.0
    max_size: int = 0

    @property
    def mean_size(self) -> float:
        return self.chunks / self.batches if self.batches else 0.0


@dataclass
class _RunningBatch:
    job_ids: list[str]
    items: list[tuple[ScheduledJob, int]]
    frames: int
    started: float
    step: int = 0
    total_steps: int = 0


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        engine: EngineService,
        planner: SynthesisPlanner,
        metrics: Metrics,
        events: SchedulerEvents,
        prep_executor: ThreadPoolExecutor,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.planner = planner
        self.metrics = metrics
        self.events = events
        self.prep_executor = prep_executor
        # One thread owns the model: every forward pass (and memory release) runs there.
        self.gpu_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpu")
        self.model_lock = asyncio.Lock()
        self.stats = BatchStats()
        # Submitted, not yet admitted: the loop admits them all at once between
        # batches. The dict mirrors the queue's content for positions and drops.
        self._inbox: asyncio.Queue[ScheduledJob | None] = asyncio.Queue()
        self._waiting: dict[str, ScheduledJob] = {}
        self._active: dict[str, ScheduledJob] = {}  # insertion order = arrival order
        self._finalizing: dict[str, ScheduledJob] = {}  # synthesized, audio being written
        self._running: _RunningBatch | None = None
        # Replaced (never mutated) so the GPU thread always reads a consistent set.
        self._dropped_ids: frozenset[str] = frozenset()
        self._drop_everything = False
        self._finalizers: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._idle_since_release = True

    # --- called by the JobService (event loop) ---
    def submit(self, job: ScheduledJob) -> None:
        self._waiting[job.id] = job
        self._inbox.put_nowait(job)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="scheduler")

    @property
    def started(self) -> bool:
        return self._task is not None

    @property
    def unfinished_count(self) -> int:
        """Jobs accepted and not finished (waiting in the inbox or active)."""
        return len(self._waiting) + len(self._active)

    @property
    def processing_ids(self) -> list[str]:
        return [job.id for job in self._active.values() if job.started_at is not None]

    def job(self, job_id: str) -> ScheduledJob | None:
        """The scheduler's object for an unfinished job (waiting, active or being written)."""
        return self._active.get(job_id) or self._waiting.get(job_id) or self._finalizing.get(job_id)

    def plan_job(self, params: JobParams, first_chunk_bytes: int = 0) -> list[Any]:
        """The planner's chunks, the first one cut short for streams. Blocking: prep thread."""
        chunks = self.planner.plan(params)
        return shorten_first_chunk(self.engine, chunks, params.speed, first_chunk_bytes)

    def drop(self, job_id: str) -> ScheduledJob | None:
        """Forget a job (cancelled, failed or timed out): queued chunks are never run,
        rows already in the running batch stop at the next ODE step."""
        job = self._active.pop(job_id, None)
        if job is None:
            job = self._waiting.pop(job_id, None)  # still in the queue: skipped on admission
            if job is None:
                return None
        job.dropped = True
        job.pending.clear()
        self._dropped_ids = self._dropped_ids | {job_id}
        self._update_gauges()
        return job

    def queue_position(self, job_id: str) -> int | None:
        """0 while the job is being synthesized; 1 + unfinished jobs ahead of it while it waits."""
        job = self._active.get(job_id)
        if (job is not None and job.started_at is not None) or job_id in self._finalizing:
            return 0
        ahead = 0
        for other in self._active.values():
            if other.id == job_id:
                return ahead + 1
            ahead += 1
        for waiting_id in self._waiting:
            if waiting_id == job_id:
                return ahead + 1
            ahead += 1
        return None

    def progress(self, job_id: str) -> dict[str, Any] | None:
        """Live progress of an unfinished job, None when the scheduler does not hold it."""
        job = self._active.get(job_id)
        if job is None:
            finishing = self._finalizing.get(job_id)
            if finishing is None:
                return None
            return {
                "fraction": 0.99,
                "step": 0,
                "total_steps": 0,
                "chunks_done": finishing.chunks_total,
                "chunks_total": finishing.chunks_total,
                "started_at": finishing.started_at,
            }
        running = self._running
        step = total = 0
        in_flight_fraction = 0.0
        if running is not None and job.in_flight and running.total_steps:
            step, total = running.step, running.total_steps
            in_flight_fraction = step / total
        in_flight_frames = sum(int(job.chunks[i].frames) for i in job.in_flight) if job.chunks else 0
        fraction = 0.0
        if job.chunks is not None:
            fraction = (job.frames_done + in_flight_frames * in_flight_fraction) / job.frames_total
        return {
            "fraction": min(fraction, 0.99),
            "step": step,
            "total_steps": total,
            "chunks_done": job.chunks_done,
            "chunks_total": job.chunks_total,
            "started_at": job.started_at,
        }

    def expired(self, now: float) -> list[ScheduledJob]:
        limit = self.settings.job_timeout_seconds
        return [job for job in self._active.values() if job.started_at is not None and now - job.started_at > limit]

    async def release_memory(self) -> None:
        """Free cached GPU memory now; runs between batches on the model thread."""
        loop = asyncio.get_running_loop()
        async with self.model_lock:
            await loop.run_in_executor(self.gpu_executor, self.engine.release_memory)

    async def stop(self, grace_seconds: float) -> list[str]:
        """Finish the running batch (or, past the grace time, stop it at the next
        ODE step) and the writing of finished jobs. Returns the ids of jobs that
        are still unfinished; the caller queues them again for the next start."""
        self._stopping = True
        self._inbox.put_nowait(None)  # wakes the loop if it waits for work
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=grace_seconds)
            if not done:
                logger.warning("scheduler.stop_interrupting_batch")
                self._drop_everything = True
                await asyncio.wait({self._task}, timeout=max(grace_seconds, 5.0))
                if not self._task.done():
                    self._task.cancel()
        if self._finalizers:
            await asyncio.wait(set(self._finalizers), timeout=max(grace_seconds, 5.0))
        unfinished = [job.id for job in self._active.values()]
        unfinished += list(self._waiting)
        self.gpu_executor.shutdown(wait=False, cancel_futures=True)
        return unfinished

    # --- the loop ---
    async def _run(self) -> None:
        try:
            while not self._stopping:
                if not self._has_work() and self._inbox.empty():
                    await self._release_memory_if_idle()
                    self._admit(await self._inbox.get())
                    if not self._stopping and self.settings.batch_wait_seconds > 0:
                        # Requests sent together arrive a few ms apart: wait
                        # briefly so they share the first forward pass.
                        await asyncio.sleep(self.settings.batch_wait_seconds)
                while not self._inbox.empty():
                    self._admit(self._inbox.get_nowait())
                if self._stopping:
                    break
                await self._plan_new_jobs()
                batch = self._next_batch()
                if batch:
                    await self._run_batch(batch)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug here would silently stall every job: log loudly and keep the
            # process honest by failing what is active.
            logger.exception("scheduler.crashed")
            for job in list(self._active.values()):
                self._fail(job, SynthesisFailedError("internal scheduler error"))
            raise

    def _has_work(self) -> bool:
        return any(job.chunks is None or job.pending for job in self._active.values())

    def _admit(self, job: ScheduledJob | None) -> None:
        """Move a submitted job to the active set (None is the stop signal; dropped jobs are skipped)."""
        if job is None or job.dropped:
            return
        self._waiting.pop(job.id, None)
        self._active[job.id] = job
        self._update_gauges()

    async def _plan_new_jobs(self) -> None:
        """Plan every newly admitted job at once: a burst of requests is normalized and prepared
        in parallel (Vinorm runs as a subprocess), not one after the other before its first batch."""
        loop = asyncio.get_running_loop()
        new_jobs = [job for job in self._active.values() if job.chunks is None]
        outcomes = await asyncio.gather(
            *(
                loop.run_in_executor(self.prep_executor, self.plan_job, job.params, job.first_chunk_bytes)
                for job in new_jobs
            ),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # cancelled (shutdown): the jobs stay queued for the next start
        for job, outcome in zip(new_jobs, outcomes, strict=True):
            if isinstance(outcome, ServiceError):
                self._fail(job, outcome)
            elif isinstance(outcome, Exception):
                logger.error("job.plan_failed", exc_info=outcome, extra={"job_id": job.id})
                self._fail(job, translate_engine_error(outcome))
            elif not job.dropped:
                job.set_plan(outcome)

    def _next_batch(self) -> list[tuple[ScheduledJob, int]]:
        pending = [
            PendingJob(
                job_id=job.id,
                arrival=job.seq,
                served=job.served,
                chunks=[
                    PendingChunk(index, int(job.chunks[index].frames), job.chunks[index].batch_key)
                    for index in job.pending
                ],
                max_take=stream_chunk_cap(job.batches) if job.stream else None,
                urgent=job.stream and job.batches == 0,
            )
            for job in self._active.values()
            if job.chunks is not None and job.pending
        ]
        chosen = form_batch(pending, self.settings.max_batch_items, self.settings.max_batch_frames)
        return [(self._active[job_id], index) for job_id, index in chosen]

    async def _run_batch(self, items: list[tuple[ScheduledJob, int]]) -> None:
        now = time.time()
        for job, index in items:
            # form_batch takes each job's chunks in order, so they leave from the front.
            assert job.pending[0] == index
            job.pending.popleft()
            job.in_flight.add(index)
            job.served += 1
            if job.started_at is None:
                job.started_at = now
                self.events.job_started(job)
                self.metrics.queue_wait_seconds.observe(max(0.0, now - job.created_at))
        for job in {job.id: job for job, _ in items}.values():
            job.batches += 1
        chunks = [job.chunks[index] for job, index in items]  # type: ignore[index]
        running = _RunningBatch(
            job_ids=[job.id for job, _ in items],
            items=items,
            frames=sum(int(chunk.frames) for chunk in chunks),
            started=time.perf_counter(),
        )
        self._running = running
        self._idle_since_release = False
        self._update_gauges()
        loop = asyncio.get_running_loop()
        try:
            async with self.model_lock:
                waves, errors = await loop.run_in_executor(self.gpu_executor, self._synthesize, running, chunks)
        finally:
            self._running = None
            # Dropped jobs are out of _active, so no later batch can hold them.
            self._dropped_ids = frozenset()
        seconds = time.perf_counter() - running.started
        self._record_batch(items, running.frames, seconds)
        self._absorb(items, waves, errors)
        self._update_gauges()

    # --- on the GPU thread ---
    def _synthesize(self, running: _RunningBatch, chunks: list[Any]) -> tuple[list[Any], dict[str, BaseException]]:
        """Run the batch; if it fails, run each job's chunks alone so one bad
        job fails alone. Returns per-chunk waves and per-job errors."""

        def on_step(step: int, total: int) -> None:
            running.step, running.total_steps = step, total

        def cancelled_rows(job_ids: Sequence[str]) -> Any:
            def cancelled() -> list[int]:
                if self._drop_everything:
                    return list(range(len(job_ids)))
                dropped = self._dropped_ids
                return [row for row, job_id in enumerate(job_ids) if job_id in dropped]

            return cancelled

        job_ids = running.job_ids
        try:
            return self.engine.synthesize(chunks, on_step, cancelled_rows(job_ids)), {}
        except Exception as exc:
            if len(set(job_ids)) == 1:
                return [None] * len(chunks), {job_ids[0]: exc}
            logger.warning("batch.failed_isolating", extra={"jobs": len(set(job_ids)), "error": repr(exc)})
        waves: list[Any] = [None] * len(chunks)
        errors: dict[str, BaseException] = {}
        for job_id in dict.fromkeys(job_ids):
            rows = [row for row, owner in enumerate(job_ids) if owner == job_id]
            try:
                sub_waves = self.engine.synthesize(
                    [chunks[row] for row in rows], on_step, cancelled_rows([job_id] * len(rows))
                )
            except Exception as exc:
                errors[job_id] = exc
                continue
            for row, wave in zip(rows, sub_waves, strict=True):
                waves[row] = wave
        return waves, errors

    # --- back on the event loop ---
    def _record_batch(self, items: list[tuple[ScheduledJob, int]], frames: int, seconds: float) -> None:
        jobs = len({job.id for job, _ in items})
        self.stats.batches += 1
        self.stats.chunks += len(items)
        self.stats.last_size = len(items)
        self.stats.last_jobs = jobs
        self.stats.last_seconds = seconds
        self.stats.max_size = max(self.stats.max_size, len(items))
        self.metrics.batch_size.observe(len(items))
        self.metrics.batch_jobs.observe(jobs)
        self.metrics.batch_frames.observe(frames)
        self.metrics.batch_seconds.observe(seconds)
        logger.info(
            "batch.done",
            extra={"chunks": len(items), "jobs": jobs, "frames": frames, "seconds": round(seconds, 3)},
        )

    def _absorb(
        self, items: list[tuple[ScheduledJob, int]], waves: list[Any], errors: dict[str, BaseException]
    ) -> None:
        now = time.time()
        touched: dict[str, ScheduledJob] = {}
        for (job, index), wave in zip(items, waves, strict=True):
            job.in_flight.discard(index)
            if job.dropped or (wave is None and self._drop_everything):
                # Cancelled, or interrupted by shutdown (then queued again at the next start).
                continue
            if job.id in errors:
                self._fail(job, translate_engine_error(errors[job.id]))
                continue
            if wave is None:
                self._fail(job, SynthesisFailedError("the engine returned no audio for a chunk"))
                continue
            job.waves[index] = wave
            job.frames_done += int(job.chunks[index].frames)  # type: ignore[index]
            touched[job.id] = job
        for job in touched.values():
            if job.dropped:
                continue
            if job.on_chunks is not None:
                try:
                    job.on_chunks(job)
                except Exception:
                    logger.exception("job.chunk_hook_failed", extra={"job_id": job.id})
            if job.finished_synthesis:
                self._active.pop(job.id, None)
                self._finalize(job)
            elif now - job.last_persisted >= self.settings.progress_persist_seconds:
                job.last_persisted = now
                self.events.job_progress(job)

    def _finalize(self, job: ScheduledJob) -> None:
        # Joining and writing the file is CPU and disk work that must not hold
        # up the next forward pass: it runs as its own task.
        self._finalizing[job.id] = job
        task = asyncio.get_running_loop().create_task(self.events.job_synthesized(job, job.waves))
        self._finalizers.add(task)
        task.add_done_callback(self._finalizers.discard)
        task.add_done_callback(lambda _: self._finalizing.pop(job.id, None))

    def _fail(self, job: ScheduledJob, error: ServiceError) -> None:
        self.drop(job.id)
        self.events.job_failed(job, error)

    async def _release_memory_if_idle(self) -> None:
        if self.settings.release_memory_when_idle and not self._idle_since_release and self.engine.ready:
            self._idle_since_release = True
            await self.release_memory()

    def _update_gauges(self) -> None:
        self.metrics.queue_depth.set(self.unfinished_count)
        self.metrics.jobs_processing.set(sum(1 for job in self._active.values() if job.in_flight))
