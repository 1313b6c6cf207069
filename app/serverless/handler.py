"""The RunPod handler: one RunPod job -> one job of the service in the same
container, over HTTP (``TTS_SERVICE_URL``).

    validate input -> POST /tts {"async": true, "job_id"} (retried while the
    service starts) -> poll /tts/progress (progress to RunPod, throttled) ->
    /tts/status -> output: URLs, audio_base64 when small, audio_url when a
    bucket is configured -> confirmation waiter + webhook in the background.

The handler is async and the worker's ``concurrency_modifier`` lets RunPod
hand it several jobs at once: they reach the service together and share its
batched forward passes.

Idempotency: the service job id is the input's ``job_id``, else RunPod's job
id. A second delivery while the first runs joins it; one after it finished
gets the remembered result; and the service itself never runs an existing job
id twice (it answers ``duplicate: true``), which covers a restarted worker.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from app.client._common import FINISHED_STATES, percent_of, state_of
from app.client.errors import APIError
from app.client.rest import AsyncTTSClient
from app.serverless.background import BackgroundWork
from app.serverless.config import WorkerSettings, on_runpod
from app.serverless.schemas import HandlerInput, HandlerOutput, describe_validation_error, is_valid_job_id
from app.serverless.storage import S3Uploader

logger = logging.getLogger("app.serverless")

T = TypeVar("T")
ProgressSink = Callable[[dict[str, Any], dict[str, Any]], None]

# A WAV of PCM16 mono: header + 2 bytes a sample.
_WAV_HEADER_BYTES = 44


class JobError(Exception):
    """A job that cannot succeed; becomes the handler's ``{"error": "code: message"}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _runpod_progress(job: dict[str, Any], payload: dict[str, Any]) -> None:
    import runpod

    runpod.serverless.progress_update(job, payload)


def service_job_id(job: dict[str, Any], requested: str | None) -> str:
    """The input's job_id, else RunPod's id (hashed if the service would refuse it)."""
    if requested:
        return requested
    runpod_id = str(job.get("id") or "")
    if runpod_id and is_valid_job_id(runpod_id):
        return runpod_id
    digest = hashlib.sha256(runpod_id.encode("utf-8")).hexdigest()[:32]
    return f"rp-{digest}"


class TTSHandler:
    def __init__(
        self,
        settings: WorkerSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        progress_sink: ProgressSink | None = None,
        background: BackgroundWork | None = None,
        uploader: S3Uploader | None = None,
    ) -> None:
        self.settings = settings or WorkerSettings()
        self._transport = transport
        if progress_sink is not None:
            self._progress_sink = progress_sink
        elif on_runpod():
            self._progress_sink = _runpod_progress
        else:
            self._progress_sink = self._log_progress
        self.background = background or BackgroundWork(self.settings)
        if uploader is None and self.settings.s3_enabled:
            uploader = S3Uploader(self.settings)
        self.uploader = uploader
        self._client: AsyncTTSClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._inflight: dict[str, asyncio.Task[dict[str, Any]]] = {}
        self._done: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._last_progress: dict[str, tuple[float, float | None, str]] = {}

    # --- SDK hooks ---
    def concurrency_modifier(self, current: int) -> int:
        """How many jobs RunPod may hand this worker at once (``WORKER_CONCURRENCY``)."""
        del current
        return self.settings.concurrency

    async def handle(self, job: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        try:
            params = HandlerInput.model_validate(job.get("input") or {})
        except ValidationError as exc:
            message = describe_validation_error(exc)
            logger.warning("job.invalid_input runpod_id=%s: %s", job.get("id"), message)
            return {"error": f"invalid_input: {message}"}

        job_id = service_job_id(job, params.job_id)
        remembered = self._done.get(job_id)
        if remembered is not None:
            logger.info(
                "job.duplicate job_id=%s runpod_id=%s: already done, not synthesized again", job_id, job.get("id")
            )
            return {**remembered, "duplicate": True}

        task = self._inflight.get(job_id)
        joined = task is not None
        if task is None:
            task = asyncio.ensure_future(self._run(job, params, job_id, started))
            self._inflight[job_id] = task
            task.add_done_callback(lambda _t, key=job_id: self._inflight.pop(key, None))
        else:
            logger.info("job.duplicate job_id=%s runpod_id=%s: joins the running delivery", job_id, job.get("id"))
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            # RunPod cancelled this job (or the worker is stopping): stop the
            # service job too, unless another delivery still waits for it.
            if not joined and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            raise
        return {**result, "duplicate": True} if joined and "error" not in result else result

    # --- one job ---
    async def _run(self, job: dict[str, Any], params: HandlerInput, job_id: str, started: float) -> dict[str, Any]:
        runpod_id = job.get("id")
        logger.info("job.start job_id=%s runpod_id=%s chars=%d", job_id, runpod_id, len(params.text))
        client = self._service()
        try:
            accepted = await self._with_retry("submit", lambda: client.submit(**_submit_kwargs(params, job_id)))
            duplicate = bool(accepted.get("duplicate"))
            if duplicate:
                logger.info("job.duplicate job_id=%s: the service already had it, following that job", job_id)
            final = await self._follow(job, job_id, started)
            output = await self._output(params, job_id, final, started)
            output["duplicate"] = duplicate
        except asyncio.CancelledError:
            logger.warning("job.cancelled job_id=%s runpod_id=%s: cancelling the service job", job_id, runpod_id)
            await self._kill(job_id)
            raise
        except JobError as exc:
            logger.error("job.failed job_id=%s runpod_id=%s: %s", job_id, runpod_id, exc)
            self.background.send_webhook(
                {"event": "tts.failed", "id": runpod_id, "job_id": job_id, "status": "FAILED", "error": str(exc)}
            )
            return {"error": str(exc)}
        except Exception as exc:
            logger.exception("job.error job_id=%s runpod_id=%s", job_id, runpod_id)
            return {"error": f"worker_error: {type(exc).__name__}: {exc}"}

        self._remember(job_id, output)
        self.background.send_webhook(
            {
                "event": "tts.completed",
                "id": runpod_id,
                "job_id": job_id,
                "status": "COMPLETED",
                "output": {k: v for k, v in output.items() if k != "audio_base64"},
            }
        )
        logger.info(
            "job.completed job_id=%s runpod_id=%s seconds=%.2f inline=%s s3=%s",
            job_id,
            runpod_id,
            output["processing_time_seconds"],
            "audio_base64" in output,
            "audio_url" in output,
        )
        return output

    async def _follow(self, job: dict[str, Any], job_id: str, started: float) -> dict[str, Any]:
        """Poll the job until it ends; returns its final status record (completed) or raises."""
        client = self._service()
        deadline = started + self.settings.job_timeout_seconds
        while True:
            record = await self._with_retry("progress", lambda: client.progress(job_id))
            state = state_of(record)
            self._report_progress(job, job_id, record)
            if state in FINISHED_STATES:
                final = await self._with_retry("status", lambda: client.job_status(job_id))
                if state_of(final) == "completed":
                    self._last_progress.pop(job_id, None)
                    return final
                error = final.get("error") or {}
                code = error.get("code") if isinstance(error, dict) else None
                message = error.get("message") if isinstance(error, dict) else error
                raise JobError(code or f"job_{state_of(final)}", str(message or f"the job ended {state_of(final)}"))
            if time.monotonic() >= deadline:
                await self._kill(job_id)
                raise JobError("job_timeout", f"not finished after {self.settings.job_timeout_seconds:.0f} s")
            await asyncio.sleep(self.settings.poll_interval_seconds)

    async def _output(self, params: HandlerInput, job_id: str, final: dict[str, Any], started: float) -> dict[str, Any]:
        result = final.get("result") or {}
        filename = str(result.get("filename") or f"{job_id}.wav")
        base = self.settings.client_base_url()
        sample_rate = result.get("sample_rate")
        duration = result.get("duration")
        out = HandlerOutput(
            filename=filename,
            download_url=f"{base}/output/{filename}",
            confirmation_url=f"{base}/confirm-download/{job_id}",
            sample_used=params.sample_used,
            processing_time_seconds=0.0,
            job_id=job_id,
            duration_seconds=duration,
            sample_rate=sample_rate,
            synthesis_seconds=result.get("processing_time"),
        )

        estimated = None
        if isinstance(duration, (int, float)) and isinstance(sample_rate, int):
            estimated = _WAV_HEADER_BYTES + int(duration * sample_rate) * 2
        inline_max = self.settings.inline_audio_max_bytes
        want_inline = inline_max > 0 and (estimated is None or estimated <= inline_max * 1.05)
        # The synthesis is done: nothing below may turn the job into a failure.
        # If the audio cannot be fetched or uploaded, the client still has
        # download_url (and the worker waits for its confirmation).
        if self.uploader is not None or want_inline:
            audio: bytes | None = None
            try:
                client = self._service()
                audio = await self._with_retry("download", lambda: client.download(filename))
            except JobError as exc:
                out.warning = f"audio not attached: {exc}"
                logger.warning("job.audio_fetch_failed job_id=%s: %s", job_id, exc)
            if audio is not None:
                out.audio_bytes = len(audio)
                if self.uploader is not None:
                    try:
                        url = await self.uploader.upload_async(audio, job_id, filename)
                    except Exception as exc:
                        out.warning = f"upload_failed: {type(exc).__name__}: {exc}"
                        logger.warning("job.upload_failed job_id=%s: %s", job_id, out.warning)
                    else:
                        out.audio_url = url
                        # Old clients download download_url: point it at the bucket
                        # too, so nothing depends on this worker staying up.
                        out.download_url = url
                if out.audio_url is None and len(audio) <= inline_max:
                    out.audio_base64 = base64.b64encode(audio).decode("ascii")

        if out.audio_url is None and self.settings.confirmation_timeout_seconds > 0:
            # The client may fetch download_url from this worker: keep it (and
            # the service) up until confirmation_url is posted or time is up.
            out.confirmation_timeout_seconds = self.settings.confirmation_timeout_seconds
            self.background.watch_confirmation(job_id)

        out.processing_time_seconds = round(time.monotonic() - started, 3)
        return out.model_dump(exclude_none=True)

    # --- helpers ---
    def _service(self) -> AsyncTTSClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = AsyncTTSClient(
                self.settings.service_url,
                api_key=self.settings.api_key_value,
                timeout=httpx.Timeout(self.settings.request_timeout_seconds, connect=5.0),
                transport=self._transport,
            )
            self._client_loop = loop
        return self._client

    async def _with_retry(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        """Retry transient failures (connection refused, 429/502/503/504) with backoff
        for up to WORKER_SERVICE_RETRY_SECONDS; a permanent refusal fails at once."""
        budget = self.settings.service_retry_seconds
        deadline = time.monotonic() + budget
        delay = self.settings.retry_initial_delay_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                return await op()
            except APIError as exc:
                if not exc.transient:
                    raise JobError(exc.code, exc.message) from exc
                failure: Exception = exc
            except httpx.TransportError as exc:
                failure = exc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JobError(
                    "service_unavailable",
                    f"{what}: the TTS service did not answer for {budget:.0f} s ({type(failure).__name__}: {failure})",
                ) from failure
            logger.warning(
                "service.retry %s attempt=%d in %.2fs: %s: %s", what, attempt, delay, type(failure).__name__, failure
            )
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)

    async def _kill(self, job_id: str) -> None:
        try:
            await asyncio.wait_for(self._service().kill(job_id), timeout=5.0)
            logger.info("job.killed job_id=%s", job_id)
        except Exception as exc:
            logger.warning("job.kill_failed job_id=%s: %s", job_id, exc)

    def _report_progress(self, job: dict[str, Any], job_id: str, record: dict[str, Any]) -> None:
        """Forward progress to RunPod at most every WORKER_PROGRESS_MIN_INTERVAL_SECONDS,
        and only when something changed (a new state is always sent)."""
        now = time.monotonic()
        percent = percent_of(record)
        state = state_of(record)
        last = self._last_progress.get(job_id)
        if last is not None:
            last_time, last_percent, last_state = last
            if state == last_state and (
                percent == last_percent or now - last_time < self.settings.progress_min_interval_seconds
            ):
                return
        self._last_progress[job_id] = (now, percent, state)
        payload = {
            "job_id": job_id,
            "status": state,
            "percent": round(percent, 1) if percent is not None else None,
            "chunks_done": record.get("chunks_done"),
            "chunks_total": record.get("chunks_total"),
            "queue_position": record.get("queue_position"),
            "eta_seconds": record.get("eta_seconds"),
            "message": record.get("message"),
        }
        try:
            self._progress_sink(job, {k: v for k, v in payload.items() if v is not None})
        except Exception as exc:
            logger.debug("progress.failed job_id=%s: %s", job_id, exc)

    @staticmethod
    def _log_progress(job: dict[str, Any], payload: dict[str, Any]) -> None:
        logger.info("job.progress runpod_id=%s %s", job.get("id"), payload)

    def _remember(self, job_id: str, output: dict[str, Any]) -> None:
        self._done[job_id] = output
        self._done.move_to_end(job_id)
        while len(self._done) > self.settings.remembered_jobs:
            self._done.popitem(last=False)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def shutdown(self, timeout: float | None = None) -> bool:
        """After the SDK stops: wait for confirmations and webhooks, then stop."""
        limit = self.settings.confirmation_timeout_seconds + 15.0 if timeout is None else timeout
        finished = self.background.drain(limit)
        if not finished:
            logger.warning("worker.drain_incomplete: background work still running after %.0f s", limit)
        self.background.close()
        return finished


def _submit_kwargs(params: HandlerInput, job_id: str) -> dict[str, Any]:
    body = params.service_request(job_id)
    body.pop("async", None)
    text = body.pop("text")
    return {"text": text, **body}
