"""WebSocket ``/ws/tts``: the successor of the old socket server.

The API key is checked at the handshake, before anything else (query
``api_key``, ``Authorization: Bearer`` or ``X-API-Key``); a wrong or missing
key closes the socket with code 1008 (policy violation).

The client sends JSON requests; each becomes a streamed job and is answered
with JSON events and binary frames of PCM16 little-endian mono:

    -> {"text": "...", "voice"?, "speed"?, "seed"?, "nfe_step"?, "sample_rate"?, "request_id"?}
    <- {"type": "started", "request_id", "job_id", "sample_rate", "encoding": "pcm_s16le", "channels": 1}
    <- {"type": "progress", "request_id", "job_id", "percent", "chunks_done", "chunks_total"}   (repeated)
    <- binary frames (the audio, in order)
    <- {"type": "done", "request_id", "job_id", "duration", "samples", "bytes", "sample_rate", "chunks"}
    <- {"type": "error", "request_id"?, "job_id"?, "code", "message"}   (instead of done, or for a bad message)

Requests on one connection run one after the other, in the order sent (a
client may send several at once; they wait in a per-connection queue), so
binary frames always belong to the request between its ``started`` and its
``done``/``error``. ``{"type": "cancel", "request_id"?}`` cancels a request.
For parallel synthesis, open several connections (they share forward passes
in the scheduler like any other jobs). A bad message gets an ``error`` event
and the connection stays usable; a disconnect cancels the running job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.api.routes.stream import open_stream, settle
from app.core.config import Settings
from app.core.errors import ServiceError, UnauthorizedError, audio_option_error
from app.core.security import check_api_key
from app.models.tts import TTSRequest
from app.models.ws import WSCancel, WSSynthesize
from app.services.audio import AudioFormat, AudioOptionError
from app.services.jobs import JobService
from app.services.streaming import EncodedStream

logger = logging.getLogger("app.ws")

router = APIRouter(tags=["websocket"])

POLICY_VIOLATION = 1008
MAX_FRAME_BYTES = 65536  # binary frames are split at this size (an even number: whole samples)


def _authorized(websocket: WebSocket, settings: Settings) -> bool:
    expected = settings.api_key.get_secret_value() if settings.api_key is not None else None
    if expected is None:
        return True
    authorization = websocket.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    presented = websocket.query_params.get("api_key") or websocket.headers.get("x-api-key")
    try:
        check_api_key(expected, bearer, presented)
    except UnauthorizedError:
        return False
    return True


def _error_fields(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ServiceError):
        return exc.code, exc.message
    if isinstance(exc, AudioOptionError):
        error = audio_option_error(exc)
        return error.code, error.message
    if isinstance(exc, ValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = first.get("msg", "invalid request")
        return "validation_error", f"{where}: {message}" if where else message
    return "internal_error", "internal server error"


class _Session:
    """One connection: a reader of client messages and a worker that runs the
    queued requests one at a time."""

    def __init__(self, websocket: WebSocket, jobs: JobService, settings: Settings) -> None:
        self.websocket = websocket
        self.jobs = jobs
        self.settings = settings
        self._send_lock = asyncio.Lock()
        self._queue: deque[WSSynthesize] = deque()
        self._queued = asyncio.Event()
        self._current: tuple[str, str | None] | None = None  # (request_id, job_id)
        self._cancelled: set[str] = set()

    # --- sending ---
    async def send_event(self, event: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(event, ensure_ascii=False))

    async def send_error(self, code: str, message: str, **fields: Any) -> None:
        context = {key: value for key, value in fields.items() if value is not None}
        await self.send_event({"type": "error", **context, "code": code, "message": message})

    async def send_audio(self, data: bytes) -> None:
        async with self._send_lock:
            for start in range(0, len(data), MAX_FRAME_BYTES):
                await self.websocket.send_bytes(data[start : start + MAX_FRAME_BYTES])

    # --- the connection ---
    async def run(self) -> None:
        worker = asyncio.create_task(self._work(), name="ws-worker")
        try:
            await self._read()
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)

    async def _read(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self.send_error("invalid_message", "send JSON text messages; binary messages are not accepted")
                continue
            if len(text) > self.settings.max_body_bytes:
                await self.send_error("payload_too_large", f"the message exceeds {self.settings.max_body_bytes} bytes")
                continue
            await self._handle(text)

    async def _handle(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            await self.send_error("invalid_json", "the message is not valid JSON")
            return
        if not isinstance(data, dict):
            await self.send_error("invalid_json", "the message must be a JSON object")
            return
        request_id = data.get("request_id") if isinstance(data.get("request_id"), str) else None
        try:
            if data.get("type") == "cancel":
                self._cancel(WSCancel.model_validate(data))
                return
            request = WSSynthesize.model_validate(data)
        except ValidationError as exc:
            code, message = _error_fields(exc)
            await self.send_error(code, message, request_id=request_id)
            return
        if request.request_id is None:
            request = request.model_copy(update={"request_id": uuid.uuid4().hex})
        if len(self._queue) >= self.settings.ws_max_queued_requests:
            await self.send_error(
                "queue_full",
                f"at most {self.settings.ws_max_queued_requests} requests may wait on one connection",
                request_id=request.request_id,
            )
            return
        self._queue.append(request)
        self._queued.set()

    def _cancel(self, message: WSCancel) -> None:
        current = self._current
        if current is not None and message.request_id in (None, current[0]):
            self._cancelled.add(current[0])
            if current[1] is not None:
                self.jobs.cancel_unfinished(current[1])
            return
        if message.request_id is not None and any(r.request_id == message.request_id for r in self._queue):
            self._cancelled.add(message.request_id)

    # --- the worker ---
    async def _work(self) -> None:
        try:
            while True:
                while not self._queue:
                    self._queued.clear()
                    await self._queued.wait()
                request = self._queue.popleft()
                assert request.request_id is not None
                if request.request_id in self._cancelled:
                    self._cancelled.discard(request.request_id)
                    await self.send_error("job_cancelled", "cancelled before it started", request_id=request.request_id)
                    continue
                self._current = (request.request_id, None)
                try:
                    await self._synthesize(request)
                finally:
                    self._cancelled.discard(request.request_id)
                    self._current = None
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the client is gone (sending failed)

    async def _synthesize(self, request: WSSynthesize) -> None:
        request_id = request.request_id
        try:
            tts = TTSRequest(
                text=request.text,
                ref_name=request.voice or request.ref_name,
                ref_text=request.ref_text,
                speed=request.speed,
                seed=request.seed,
                nfe_step=request.nfe_step,
                cfg_strength=request.cfg_strength,
                format="pcm",
                sample_rate=request.sample_rate,
            )
            job_id, stream, owned, duplicate = await open_stream(self.jobs, tts, AudioFormat.PCM)
        except (ServiceError, AudioOptionError, ValidationError) as exc:
            code, message = _error_fields(exc)
            await self.send_error(code, message, request_id=request_id)
            return
        self._current = (request_id, job_id)  # type: ignore[assignment]
        complete = False
        try:
            await self.send_event(
                {
                    "type": "started",
                    "request_id": request_id,
                    "job_id": job_id,
                    "sample_rate": stream.output_rate,
                    "encoding": "pcm_s16le",
                    "channels": 1,
                    "duplicate": duplicate,
                }
            )
            if request_id in self._cancelled:  # cancelled while it was being submitted
                self.jobs.cancel_unfinished(job_id)
            await self._pump(request_id, job_id, stream)  # type: ignore[arg-type]
            complete = True
            record = await settle(self.jobs, job_id)  # the job is recorded as completed, its file written
            done: dict[str, Any] = {
                "type": "done",
                "request_id": request_id,
                "job_id": job_id,
                "duration": round(stream.duration, 3),
                "samples": stream.samples,
                "bytes": stream.bytes_out,
                "sample_rate": stream.output_rate,
                "chunks": stream.chunks,
            }
            if record is not None and record.output_filename is not None:
                done["download_url"] = self.jobs.download_url(record.output_filename)
                done["processing_time"] = round(record.processing_time or 0.0, 3)
            await self.send_event(done)
        except ServiceError as exc:
            await self.send_error(exc.code, exc.message, request_id=request_id, job_id=job_id)
        finally:
            stream.close()
            self.jobs.close_feed(stream.feed)  # type: ignore[arg-type]
            if not complete and owned:
                self.jobs.cancel_unfinished(job_id)

    async def _pump(self, request_id: str, job_id: str, stream: EncodedStream) -> None:
        last_percent: float | None = None

        async def progress() -> None:
            nonlocal last_percent
            report = self.jobs.progress(job_id)
            if report.progress != last_percent:
                last_percent = report.progress
                await self.send_event(
                    {
                        "type": "progress",
                        "request_id": request_id,
                        "job_id": job_id,
                        "percent": report.progress,
                        "chunks_done": report.chunks_done,
                        "chunks_total": report.chunks_total,
                    }
                )

        while True:
            try:
                data = await stream.read(timeout=self.settings.stream_progress_seconds)
            except TimeoutError:
                await progress()
                continue
            if data is None:
                return
            await self.send_audio(data)
            await progress()


@router.websocket("/ws/tts")
async def ws_tts(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    if not _authorized(websocket, settings):
        await websocket.accept()
        await websocket.close(code=POLICY_VIOLATION, reason="missing or wrong API key")
        logger.info("ws.refused", extra={"client": str(websocket.client)})
        return
    await websocket.accept()
    session = _Session(websocket, websocket.app.state.jobs, settings)
    try:
        await session.run()
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away while we were sending
    finally:
        if (
            websocket.client_state is WebSocketState.CONNECTED
            and websocket.application_state is WebSocketState.CONNECTED
        ):
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close()
