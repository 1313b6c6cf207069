"""HTTP streaming: ``POST /tts/stream`` sends audio as chunked HTTP while later
chunks are still being synthesized. Also the response class the OpenAI
endpoint streams with."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import APIRouter
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.api.deps import JobsDep
from app.core.errors import ServiceError
from app.models.errors import error_responses
from app.models.jobs import JobRecord
from app.models.tts import TTSRequest
from app.services.audio import STREAMABLE_FORMAT_NAMES, AudioFormat, UnsupportedFormatError
from app.services.jobs import JobService
from app.services.streaming import EncodedStream

logger = logging.getLogger("app.stream")

router = APIRouter(tags=["streaming"])

STREAM_HEADERS = {
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # proxies (nginx) must pass chunks on at once
}


class StreamAborted(Exception):
    """Raised by a stream body when the audio cannot be completed (the job failed
    or was cancelled): the connection is closed without the final empty chunk, so
    the client sees an incomplete response instead of a short but "complete" file."""


class DisconnectAwareStreamingResponse(StreamingResponse):
    """A ``StreamingResponse`` that notices a client leaving while it waits for audio.

    Starlette (ASGI 2.4 servers) only learns of a disconnect when a write fails,
    which for a stream waiting on the next chunk can be many seconds later. This
    one always listens for ``http.disconnect`` beside the body: a client that
    goes away closes the body iterator at once (its ``finally`` cancels the job).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                try:
                    await self._send_body(send)
                except Exception:
                    # A bug, not the client's doing: the connection closes unfinished.
                    logger.exception("stream.failed")
                finally:
                    group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()

    async def _send_body(self, send: Send) -> None:
        iterator = self.body_iterator
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in iterator:
                data = chunk if isinstance(chunk, bytes | memoryview) else chunk.encode(self.charset)
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except StreamAborted:
            return  # no final chunk: the server closes the connection
        except OSError:
            return  # the client is gone
        finally:
            # Closing the body runs its cleanup now (cancelling the job when the
            # client left), not whenever the generator is garbage-collected.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()


def stream_body(
    jobs: JobService,
    job_id: str,
    stream: EncodedStream,
    *,
    owned: bool,
    frame: Callable[[bytes], bytes] | None = None,
    trailer: Callable[[EncodedStream], bytes] | None = None,
    on_error: Callable[[ServiceError], bytes] | None = None,
) -> AsyncIterator[bytes]:
    """The response body of a streamed job: ``stream``'s bytes (through ``frame`` if
    given, e.g. SSE events), then ``trailer``. If the job fails or is cancelled the
    body ends with ``on_error``'s bytes when given (an SSE error event), else the
    connection is closed unfinished. Whatever ends it early (client gone, job
    failed) cancels the job if this request created it (``owned``) and frees the
    encoder."""

    async def body() -> AsyncIterator[bytes]:
        complete = False
        try:
            while (data := await stream.read()) is not None:
                yield frame(data) if frame is not None else data
            # Every byte of audio is out; the response ends once the job is recorded
            # as completed (its file written), so /tts/status agrees with the client.
            await settle(jobs, job_id)
            if trailer is not None:
                yield trailer(stream)
            complete = True
            logger.info(
                "stream.done",
                extra={"job_id": job_id, "bytes": stream.bytes_out, "audio_seconds": round(stream.duration, 3)},
            )
        except ServiceError as exc:
            logger.warning("stream.aborted", extra={"job_id": job_id, "code": exc.code, "error": exc.message})
            if on_error is None:
                raise StreamAborted(exc.message) from exc
            yield on_error(exc)
        finally:
            stream.close()
            jobs.close_feed(stream.feed)  # type: ignore[arg-type]
            if not complete and owned:
                jobs.cancel_unfinished(job_id)

    return body()


async def settle(jobs: JobService, job_id: str, timeout: float = 60.0) -> JobRecord | None:
    """The job's record once it has finished (None if that takes over ``timeout`` s)."""
    try:
        return await asyncio.wait_for(jobs.wait(job_id), timeout)
    except TimeoutError:
        logger.warning("stream.settle_timeout", extra={"job_id": job_id})
        return None


async def open_stream(jobs: JobService, request: TTSRequest, fmt: AudioFormat) -> tuple[str, EncodedStream, bool, bool]:
    """Submit ``request`` as a streamed job and open its encoded stream:
    (job_id, stream, owned, duplicate). A ``job_id`` that exists is streamed from
    where it is (never synthesized twice); only a job created here is "owned"."""
    if not fmt.streamable:
        # Before any job is recorded: the 400 lists the streamable formats.
        raise UnsupportedFormatError(
            f"audio format {fmt.value!r} cannot be streamed; use one of: {', '.join(STREAMABLE_FORMAT_NAMES)}",
            value=fmt.value,
            allowed=STREAMABLE_FORMAT_NAMES,
        )
    submission = await jobs.submit(request, stream=True)
    job_id = submission.record.id
    owned = not submission.duplicate
    feed = None
    try:
        feed = jobs.open_feed(job_id)
        stream = await EncodedStream.open(feed, fmt, request.sample_rate)
    except BaseException:
        if feed is not None:
            jobs.close_feed(feed)
        if owned:
            jobs.cancel_unfinished(job_id)
        raise
    return job_id, stream, owned, submission.duplicate


def stream_headers(job_id: str, stream: EncodedStream, duplicate: bool) -> dict[str, Any]:
    return {
        **STREAM_HEADERS,
        "X-Job-Id": job_id,
        "X-Request-Id": job_id,
        "X-Duplicate": "true" if duplicate else "false",
        "X-Sample-Rate": str(stream.output_rate),
        "X-Audio-Format": stream.format.value,
    }


@router.post(
    "/tts/stream",
    summary="Synthesize and stream the audio as it is generated (chunked HTTP)",
    response_class=DisconnectAwareStreamingResponse,
    responses={
        200: {
            "description": "The audio, sent chunk by chunk (no Content-Length). Headers: `X-Job-Id`, "
            "`X-Sample-Rate`, `X-Audio-Format`",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("audio/wav", "audio/mpeg", "audio/ogg", "audio/pcm")
            },
        },
        **error_responses(400, 401, 404, 409, 413, 422, 429, 503),
    },
)
async def tts_stream(request: TTSRequest, jobs: JobsDep) -> DisconnectAwareStreamingResponse:
    """Same body as `POST /tts` (`async` is ignored) with `format` `wav` (default), `mp3`,
    `opus` or `pcm`; `flac` cannot be streamed (400). The first chunk is kept short so
    audio starts early; WAV carries a header valid for an unknown length. The stream is
    an ordinary job (`/tts/status/{X-Job-Id}`, the file under `/output/`), batched with
    everything else; a client that disconnects cancels it. If synthesis fails midway the
    connection is closed without completing the chunked body."""
    fmt = AudioFormat.parse(request.format)
    job_id, stream, owned, duplicate = await open_stream(jobs, request, fmt)
    return DisconnectAwareStreamingResponse(
        stream_body(jobs, job_id, stream, owned=owned),
        media_type=stream.media_type,
        headers=stream_headers(job_id, stream, duplicate),
    )
