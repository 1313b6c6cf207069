"""Jobs: submission, idempotency, waiting, cancellation, timeouts, results,
download confirmation, and the reactions to what the scheduler reports.

Every request that passes validation becomes a job recorded in the job store
before anything else happens, sync or async alike; the sync path then awaits
a future resolved when the job ends. A ``job_id`` that already exists is
answered with that job, never synthesized again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import (
    InvalidRequestError,
    JobNotFoundError,
    JobStateConflictError,
    JobTimeoutError,
    OutputExpiredError,
    OutputNotFoundError,
    OutputNotReadyError,
    QueueFullError,
    ServiceError,
    ServiceUnavailableError,
    SynthesisFailedError,
    TextTooLongError,
    WebhookNotAllowedError,
)
from app.core.metrics import Metrics
from app.models.jobs import JobMode, JobParams, JobRecord, JobStatus
from app.models.tts import (
    MAX_SEED,
    CheckDownloadResponse,
    ConfirmDownloadResponse,
    ErrorInfo,
    JobProgressResponse,
    JobResult,
    JobStatusResponse,
    TTSRequest,
)
from app.services import audio
from app.services.engine import EngineService, EngineState
from app.services.job_store import JobStore
from app.services.output_storage import OutputStorage, convert, format_for_extension
from app.services.planner import SynthesisPlanner
from app.services.scheduler import ScheduledJob, Scheduler
from app.services.streaming import ChunkFeed, FileFeed, error_for
from app.services.webhooks import WebhookSender

logger = logging.getLogger("app.jobs")

PREP_THREADS = 4

_QUEUE_FULL_RETRY_AFTER_SECONDS = 5


def _iso(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp is not None else None


@dataclass(frozen=True)
class Submission:
    record: JobRecord
    duplicate: bool
    queue_position: int | None


@dataclass(frozen=True)
class Download:
    """What ``GET /output/{filename}`` sends: a stored file as it is, or a conversion."""

    media_type: str
    filename: str
    path: Path | None = None  # the stored file, sent as is (Range works)
    data: bytes | None = None  # converted in memory (another format or rate)
    sample_rate: int | None = None


class JobService:
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        engine: EngineService,
        planner: SynthesisPlanner,
        storage: OutputStorage,
        webhooks: WebhookSender,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.planner = planner
        self.storage = storage
        self.webhooks = webhooks
        self.metrics = metrics
        # Reading clips and planning chunks; kept off the model thread so a
        # long batch does not delay validating new requests.
        # Planning (Vinorm, reading and preparing references) is I/O and subprocess work: a few
        # threads let a burst of requests be planned side by side.
        self.prep_executor = ThreadPoolExecutor(max_workers=PREP_THREADS, thread_name_prefix="prep")
        # Joining chunk audio and writing files, concurrent with the next batch.
        self.io_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="io")
        self.scheduler = Scheduler(settings, engine, planner, metrics, self, self.prep_executor)
        self._waiters: dict[str, list[asyncio.Future[JobRecord]]] = {}
        self._feeds: dict[str, set[ChunkFeed]] = {}  # readers of streamed jobs
        self._arrival = itertools.count()
        counts = store.count_by_status()
        self._totals: Counter[str] = Counter(
            total=sum(counts.values()),
            completed=counts[JobStatus.completed],
            failed=counts[JobStatus.failed],
            cancelled=counts[JobStatus.cancelled],
        )
        self._watchdog: asyncio.Task[None] | None = None

    # --- lifecycle ---
    def recover(self) -> int:
        """Queue again every job that was queued or interrupted when the process stopped."""
        records = self.store.requeue_unfinished()
        for record in records:
            self.scheduler.submit(self._scheduled(record))
        if records:
            logger.info("jobs.recovered", extra={"count": len(records), "job_ids": [r.id for r in records]})
        for record in self.store.pending_webhooks():
            self._send_webhook(record)
        return len(records)

    def start(self) -> None:
        """Start synthesizing (once the engine is ready) and watching for timeouts."""
        self.scheduler.start()
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_timeouts(), name="job-timeouts")

    def warm_up(self) -> float:
        """One tiny synthesis with the default voice: first-call costs (kernel
        selection, allocator growth) are paid here, and the voice gets cached.
        Blocking: runs on the model thread before the scheduler starts."""
        started = time.perf_counter()
        params = JobParams(
            text="xin chào.",
            voice=self.planner.voices.canonical_name(None),
            speed=1.0,
            seed=0,
            nfe_step=2,
            cfg_strength=self.settings.default_cfg_strength,
        )
        self.engine.synthesize(self.planner.plan(params), None, None)
        return time.perf_counter() - started

    async def shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        unfinished = await self.scheduler.stop(self.settings.graceful_shutdown_seconds)
        self.store.return_to_queue(unfinished)
        if unfinished:
            logger.info("jobs.requeued_for_next_start", extra={"count": len(unfinished), "job_ids": unfinished})
        for job_id, futures in list(self._waiters.items()):
            for future in futures:
                if not future.done():
                    future.set_exception(
                        ServiceUnavailableError(
                            f"the server is shutting down; job {job_id} is kept and resumes at the next start"
                        )
                    )
        self._waiters.clear()
        for feeds in list(self._feeds.values()):
            for feed in feeds:
                feed.fail(ServiceUnavailableError("the server is shutting down"))
        self._feeds.clear()
        self.prep_executor.shutdown(wait=False, cancel_futures=True)
        self.io_executor.shutdown(wait=True)

    # --- submission ---
    async def submit(self, request: TTSRequest, *, stream: bool = False) -> Submission:
        """Record and queue a job. ``stream``: its audio will be read chunk by chunk
        (``open_feed``): short first chunk, mode ``stream``."""
        job_id = request.job_id or uuid.uuid4().hex
        existing = self.store.get(job_id)
        if existing is not None:
            return self._duplicate(existing)
        if self.engine.state is EngineState.failed:
            raise ServiceUnavailableError("the model failed to load; see /status")
        try:
            params = self._params(request)
            self._check_capacity()
            chunks = None
            first_chunk_bytes = self.settings.stream_first_chunk_bytes if stream else 0
            loop = asyncio.get_running_loop()
            if request.ref_audio_base64 is not None:
                # Decoding and checking the clip is CPU work: off the event loop.
                params = await loop.run_in_executor(
                    self.prep_executor, self.planner.with_inline_reference, params, request.ref_audio_base64
                )
            if self.engine.ready:
                # Plan now so bad input is answered with a 4xx at once, even in async mode.
                chunks = await loop.run_in_executor(
                    self.prep_executor, self.scheduler.plan_job, params, first_chunk_bytes
                )
            else:
                # The text (Vinorm is a subprocess) and the voice's transcript, off the event loop.
                await loop.run_in_executor(self.prep_executor, self.planner.check, params)
        except ServiceError as exc:
            self.metrics.requests_rejected.labels(exc.code).inc()
            raise
        record = JobRecord(
            id=job_id,
            status=JobStatus.queued,
            mode=JobMode.stream if stream else JobMode.async_ if request.async_ else JobMode.sync,
            params=params,
            created_at=time.time(),
        )
        if not self.store.insert(record):
            # Same job_id submitted concurrently: the first one won.
            existing = self.store.get(job_id)
            assert existing is not None
            return self._duplicate(existing)
        self._totals["total"] += 1
        job = self._scheduled(record)
        if stream:
            job.stream = True
            job.first_chunk_bytes = first_chunk_bytes
        if chunks is not None:
            job.set_plan(chunks)
        self.scheduler.submit(job)
        self.metrics.jobs_submitted.labels(record.mode.value).inc()
        self.metrics.queue_depth.set(self.scheduler.unfinished_count)
        logger.info(
            "job.submitted",
            extra={
                "job_id": job_id,
                "mode": record.mode.value,
                "voice": params.voice,
                "chars": len(params.text),
                "chunks": job.chunks_total or None,
            },
        )
        return Submission(record, duplicate=False, queue_position=self.scheduler.queue_position(job_id))

    def _duplicate(self, existing: JobRecord) -> Submission:
        self.metrics.jobs_duplicate.inc()
        logger.info("job.duplicate", extra={"job_id": existing.id, "status": existing.status.value})
        return Submission(existing, duplicate=True, queue_position=self.scheduler.queue_position(existing.id))

    def _params(self, request: TTSRequest) -> JobParams:
        s = self.settings
        if len(request.text) > s.max_text_length:
            raise TextTooLongError(f"text has {len(request.text)} characters; the limit is {s.max_text_length}")
        # Only cheap checks here (the event loop): the text front-end and the transcript are checked by planning.
        voice_name = self.planner.voice_name(request.ref_name, inline=request.ref_audio_base64 is not None)
        if request.webhook_url is not None:
            if not s.webhook_allow_per_request:
                raise WebhookNotAllowedError(
                    "per-request webhook_url is disabled on this server (WEBHOOK_ALLOW_PER_REQUEST)"
                )
            if not request.webhook_url.startswith(("http://", "https://")):
                raise InvalidRequestError("webhook_url must be an http:// or https:// URL")
        return JobParams(
            text=request.text,
            voice=voice_name,
            ref_text=request.ref_text,
            speed=request.speed if request.speed is not None else s.default_speed,
            seed=request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1),
            nfe_step=request.nfe_step if request.nfe_step is not None else s.default_nfe_step,
            cfg_strength=request.cfg_strength if request.cfg_strength is not None else s.default_cfg_strength,
            format=request.format,
            sample_rate=request.sample_rate,
            webhook_url=request.webhook_url,
            normalize=request.normalize if request.normalize is not None else s.text_normalization,
            extra_lexicon=request.extra_lexicon,
        )

    def _check_capacity(self) -> None:
        if self.scheduler.unfinished_count >= self.settings.max_queue_size:
            raise QueueFullError(
                f"the queue is full ({self.settings.max_queue_size} unfinished jobs); retry later",
                retry_after_seconds=_QUEUE_FULL_RETRY_AFTER_SECONDS,
            )

    def _scheduled(self, record: JobRecord) -> ScheduledJob:
        return ScheduledJob(id=record.id, seq=next(self._arrival), params=record.params, created_at=record.created_at)

    # --- reading ---
    def get(self, job_id: str) -> JobRecord:
        record = self.store.get(job_id)
        if record is None:
            raise JobNotFoundError(f"no job {job_id!r}")
        return record

    async def wait(self, job_id: str) -> JobRecord:
        """Until the job is finished (completed, failed or cancelled)."""
        record = self.get(job_id)
        if record.status.finished:
            return record
        future: asyncio.Future[JobRecord] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, []).append(future)
        try:
            return await future
        finally:
            futures = self._waiters.get(job_id)
            if futures is not None and future in futures:
                futures.remove(future)
                if not futures:
                    del self._waiters[job_id]

    def download_url(self, filename: str) -> str:
        base = (self.settings.public_base_url or "").rstrip("/")
        return f"{base}/output/{filename}"

    def _output_path_for_display(self, filename: str) -> str:
        path = self.storage.root / filename
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def describe(self, record: JobRecord) -> JobStatusResponse:
        live = None if record.status.finished else self.scheduler.progress(record.id)
        progress = 100.0 if record.status is JobStatus.completed else record.progress * 100
        if live is not None:
            progress = live["fraction"] * 100
        result = None
        if record.status is JobStatus.completed and record.output_filename is not None:
            stored_format = format_for_extension(record.output_filename.rsplit(".", 1)[-1])
            result = JobResult(
                output_path=self._output_path_for_display(record.output_filename),
                filename=record.output_filename,
                download_url=self.download_url(record.output_filename),
                format=stored_format.name if stored_format is not None else record.params.format,
                sample_rate=record.sample_rate or self.engine.sample_rate,
                duration=round(record.duration or 0.0, 3),
                processing_time=round(record.processing_time or 0.0, 3),
            )
        error = None
        if record.status in (JobStatus.failed, JobStatus.cancelled) and record.error_code:
            error = ErrorInfo(code=record.error_code, message=record.error_message or "")
        return JobStatusResponse(
            request_id=record.id,
            job_id=record.id,
            status=record.status,
            mode=record.mode,
            queue_position=None if record.status.finished else self.scheduler.queue_position(record.id),
            progress=round(progress, 2),
            created_at=_iso(record.created_at),
            started_at=_iso(record.started_at),
            finished_at=_iso(record.finished_at),
            result=result,
            error=error,
            download_confirmed=record.download_confirmed_at is not None,
        )

    def progress(self, job_id: str) -> JobProgressResponse:
        record = self.get(job_id)
        base = {"job_id": record.id, "request_id": record.id, "status": record.status}
        if record.status.finished:
            percent = 100.0 if record.status is JobStatus.completed else round(record.progress * 100, 2)
            return JobProgressResponse(
                **base,
                progress=percent,
                chunks_done=record.chunks_done,
                chunks_total=record.chunks_total,
                elapsed_seconds=self._elapsed(record.started_at, record.finished_at),
                eta_seconds=0.0 if record.status is JobStatus.completed else None,
                message=record.status.value
                if record.error_message is None
                else f"{record.status.value}: {record.error_message}",
            )
        live = self.scheduler.progress(job_id)
        position = self.scheduler.queue_position(job_id)
        if live is None or live["started_at"] is None:
            return JobProgressResponse(
                **base,
                progress=0.0,
                chunks_total=live["chunks_total"] if live and live["chunks_total"] else record.chunks_total,
                queue_position=position,
                message="waiting in the queue" if self.engine.ready else "waiting for the model to load",
            )
        fraction = live["fraction"]
        elapsed = time.time() - live["started_at"]
        eta = elapsed * (1 - fraction) / fraction if fraction >= 0.01 else None
        return JobProgressResponse(
            **base,
            progress=round(fraction * 100, 2),
            step=live["step"],
            total_steps=live["total_steps"],
            chunks_done=live["chunks_done"],
            chunks_total=live["chunks_total"],
            queue_position=position,
            elapsed_seconds=round(elapsed, 3),
            eta_seconds=round(eta, 2) if eta is not None else None,
            message="synthesizing",
        )

    @staticmethod
    def _elapsed(start: float | None, end: float | None) -> float | None:
        return round(end - start, 3) if start is not None and end is not None else None

    # --- cancellation ---
    def cancel(self, job_id: str) -> tuple[JobRecord, bool]:
        """(record, cancelled_now). Refuses jobs that already completed or failed."""
        record = self.get(job_id)
        if record.status is JobStatus.cancelled:
            return record, False
        if not record.status.finished:
            targets = self.webhooks.targets(record.params.webhook_url)
            if self.store.cancel(job_id, finished_at=time.time(), webhook_pending=bool(targets)):
                self.scheduler.drop(job_id)
                record = self.get(job_id)
                self._finished(record, "cancelled")
                logger.info("job.cancelled", extra={"job_id": job_id})
                return record, True
            record = self.get(job_id)  # it finished while we looked
        if record.status is JobStatus.cancelled:
            return record, False
        raise JobStateConflictError(f"job {job_id!r} is already {record.status.value}; it cannot be cancelled")

    def cancel_unfinished(self, job_id: str) -> bool:
        """Cancel the job if it is still queued or running (a streaming client went away);
        True when this call cancelled it. Never raises for finished or unknown jobs."""
        try:
            _, cancelled_now = self.cancel(job_id)
        except (JobStateConflictError, JobNotFoundError):
            return False
        if cancelled_now:
            logger.info("job.stream_abandoned", extra={"job_id": job_id})
        return cancelled_now

    # --- streaming ---
    def open_feed(self, job_id: str) -> ChunkFeed | FileFeed:
        """The job's audio chunk by chunk as batches finish (from its first chunk,
        whenever the feed is opened); a completed job's audio comes from its file.
        Call ``close_feed`` when done. Raises the job's error if it failed or was cancelled."""
        job = self.scheduler.job(job_id)
        if job is not None:
            feed = ChunkFeed(job, self.engine.sample_rate, lambda: self.store.get(job_id))
            self._feeds.setdefault(job_id, set()).add(feed)
            job.on_chunks = self._wake_feeds
            return feed
        record = self.get(job_id)
        if record.status is JobStatus.completed and record.output_filename is not None:
            path, _ = self.output_file(record.output_filename)
            return FileFeed(path, record.sample_rate or self.engine.sample_rate)
        if not record.status.finished:
            # Recorded but not held by the scheduler: only while the service stops.
            raise ServiceUnavailableError(f"job {job_id!r} cannot be streamed now; retry later")
        raise error_for(record)

    def close_feed(self, feed: ChunkFeed | FileFeed) -> None:
        if isinstance(feed, ChunkFeed):
            feeds = self._feeds.get(feed.job_id)
            if feeds is not None:
                feeds.discard(feed)
                if not feeds:
                    del self._feeds[feed.job_id]

    def _wake_feeds(self, job: ScheduledJob) -> None:
        for feed in self._feeds.get(job.id, ()):
            feed.wake()

    # --- downloads ---
    async def download(self, filename: str, sample_rate: int | None = None) -> Download:
        """``X.<ext>`` for job X: its stored file as is when the format and rate match,
        otherwise that file converted (another extension of a known format, or
        ``sample_rate``) in the io executor. Errors as ``output_file``."""
        path = self.storage.path_for(filename)  # refuses names that could leave OUTPUT_DIR
        stem, _, extension = filename.rpartition(".")
        target = format_for_extension(extension) if stem else None
        record = self.store.get(stem) if stem else None
        if path.is_file():
            source, source_rate = path, (record.sample_rate if record is not None else None)
        elif target is not None and record is not None and record.output_filename not in (None, filename):
            source, _ = self.output_file(record.output_filename)
            source_rate = record.sample_rate
        else:
            source, _ = self.output_file(filename)  # raises the right 404/409/410
            source_rate = None
        if source == path and (sample_rate is None or sample_rate == source_rate):
            return Download(
                media_type=self.storage.media_type_for(filename), filename=filename, path=path, sample_rate=source_rate
            )
        if target is None:
            raise OutputNotFoundError(f"{filename!r} is not an audio format this service can convert to")
        fmt = audio.AudioFormat.parse(target.name)
        if sample_rate is not None:
            audio.check_sample_rate(sample_rate)
        loop = asyncio.get_running_loop()
        raw_rate = source_rate or self.engine.sample_rate
        data, rate = await loop.run_in_executor(self.io_executor, convert, source, fmt.value, sample_rate, raw_rate)
        return Download(media_type=fmt.media_type, filename=filename, data=data, sample_rate=rate)

    def output_file(self, filename: str) -> tuple[Path, str]:
        path = self.storage.path_for(filename)  # refuses names that could leave OUTPUT_DIR
        if path.is_file():
            return path, self.storage.media_type_for(filename)
        record = self.store.get(filename.rsplit(".", 1)[0])
        if record is not None:
            if record.output_removed_at is not None:
                raise OutputExpiredError(f"the audio of job {record.id!r} was removed ({record.output_removed_reason})")
            if not record.status.finished:
                raise OutputNotReadyError(f"job {record.id!r} is {record.status.value}; poll /tts/status/{record.id}")
            if record.status is not JobStatus.completed:
                raise OutputNotFoundError(f"job {record.id!r} {record.status.value}; it has no audio")
        raise OutputNotFoundError(f"no output file {filename!r}")

    def confirm_download(self, job_id: str) -> ConfirmDownloadResponse:
        record = self.get(job_id)
        if record.status is not JobStatus.completed:
            raise OutputNotReadyError(f"job {job_id!r} is {record.status.value}; there is no download to confirm")
        record = self.store.confirm_download(job_id, time.time()) or record
        assert record.download_confirmed_at is not None
        logger.info("job.download_confirmed", extra={"job_id": job_id})
        return ConfirmDownloadResponse(
            confirmed=True,
            job_id=job_id,
            timestamp=_iso(record.download_confirmed_at),
            removal_after=_iso(record.download_confirmed_at + self.settings.confirmed_retention_seconds),
        )

    def check_download(self, job_id: str) -> CheckDownloadResponse:
        record = self.get(job_id)
        return CheckDownloadResponse(
            confirmed=record.download_confirmed_at is not None,
            timestamp=_iso(record.download_confirmed_at),
            job_id=job_id,
        )

    # --- statistics ---
    @property
    def totals(self) -> dict[str, int]:
        return dict(self._totals)

    # --- scheduler events ---
    def job_started(self, job: ScheduledJob) -> None:
        assert job.started_at is not None
        self.store.mark_processing(job.id, job.started_at, job.chunks_total)
        logger.info("job.started", extra={"job_id": job.id, "chunks": job.chunks_total})

    def job_progress(self, job: ScheduledJob) -> None:
        self.store.update_progress(job.id, job.frames_done / job.frames_total, job.chunks_done, job.chunks_total)

    async def job_synthesized(self, job: ScheduledJob, waves: list[Any]) -> None:
        loop = asyncio.get_running_loop()
        try:
            filename, duration = await loop.run_in_executor(self.io_executor, self._write_output, job, waves)
        except Exception as exc:
            logger.exception("job.write_failed", extra={"job_id": job.id})
            self.job_failed(job, SynthesisFailedError(f"could not write the audio: {type(exc).__name__}: {exc}"))
            return
        finished_at = time.time()
        started_at = job.started_at if job.started_at is not None else finished_at
        processing_time = finished_at - started_at
        targets = self.webhooks.targets(job.params.webhook_url)
        completed = self.store.complete(
            job.id,
            output_filename=filename,
            sample_rate=audio.output_sample_rate(job.params.format, job.params.sample_rate),
            duration=duration,
            processing_time=processing_time,
            finished_at=finished_at,
            webhook_pending=bool(targets),
        )
        if not completed:
            # Cancelled or timed out while its audio was being written.
            self.storage.remove(filename)
            return
        self.metrics.job_seconds.observe(finished_at - job.created_at)
        self.metrics.audio_seconds.inc(duration)
        if duration > 0:
            self.metrics.real_time_factor.observe(processing_time / duration)
        logger.info(
            "job.completed",
            extra={
                "job_id": job.id,
                "audio_seconds": round(duration, 3),
                "processing_seconds": round(processing_time, 3),
                "chunks": job.chunks_total,
            },
        )
        self._finished(self.get(job.id), "completed")

    def _write_output(self, job: ScheduledJob, waves: list[Any]) -> tuple[str, float]:
        samples = self.engine.join(waves)
        filename = self.storage.write(
            job.id, samples, self.engine.sample_rate, job.params.format, target_rate=job.params.sample_rate
        )
        return filename, len(samples) / self.engine.sample_rate

    def job_failed(self, job: ScheduledJob, error: ServiceError) -> None:
        targets = self.webhooks.targets(job.params.webhook_url)
        if not self.store.fail(
            job.id, code=error.code, message=error.message, finished_at=time.time(), webhook_pending=bool(targets)
        ):
            return  # already finished: a completed job never becomes failed
        self.metrics.job_failures.labels(error.code).inc()
        logger.warning("job.failed", extra={"job_id": job.id, "code": error.code, "error": error.message})
        self._finished(self.get(job.id), "failed")

    def _finished(self, record: JobRecord, kind: str) -> None:
        self._totals[kind] += 1
        self.metrics.jobs_finished.labels(record.status.value).inc()
        self.metrics.queue_depth.set(self.scheduler.unfinished_count)
        for future in self._waiters.pop(record.id, []):
            if not future.done():
                future.set_result(record)
        for feed in self._feeds.get(record.id, ()):
            feed.wake()
        self._send_webhook(record)

    def _send_webhook(self, record: JobRecord) -> None:
        if record.webhook_state != "pending":
            return
        targets = self.webhooks.targets(record.params.webhook_url)
        if not targets:  # webhooks were switched off since the job ended
            self.store.set_webhook_state(record.id, "skipped")
            return
        payload = self.describe(record).model_dump(mode="json")
        self.webhooks.send(record.id, f"job.{record.status.value}", payload, targets)

    async def _watch_timeouts(self) -> None:
        interval = min(5.0, self.settings.job_timeout_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            for job in self.scheduler.expired(time.time()):
                self.scheduler.drop(job.id)
                self.job_failed(
                    job,
                    JobTimeoutError(f"job ran longer than JOB_TIMEOUT_SECONDS={self.settings.job_timeout_seconds:g}"),
                )
