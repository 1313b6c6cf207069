"""OpenAI-compatible speech API (``/v1``): works unchanged with the official SDK
(``OpenAI(base_url=".../v1", api_key=...)``).

- ``POST /v1/audio/speech``: OpenAI's request schema; audio streamed while it is
  synthesized (as OpenAI does) or, with ``stream_format="sse"``, server-sent
  events ``speech.audio.delta`` / ``speech.audio.done``.
- ``GET /v1/models``, ``GET /v1/models/{id}``, ``GET /v1/audio/voices``.
- Errors in OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``.

Mapping decisions are in docs/openai.md.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError

from app.api.deps import JobsDep
from app.api.routes.stream import (
    DisconnectAwareStreamingResponse,
    open_stream,
    stream_body,
    stream_headers,
)
from app.core.errors import (
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    VoiceNotFoundError,
    audio_option_error,
    error_from_code,
)
from app.models.jobs import JobStatus
from app.models.openai import (
    ACCEPTED_MODELS,
    MODEL_ID,
    OPENAI_VOICES,
    ModelList,
    ModelObject,
    SpeechRequest,
    VoiceList,
    VoiceObject,
    openai_error_responses,
)
from app.models.tts import TTSRequest
from app.services.audio import STREAMABLE_FORMAT_NAMES, AudioFormat, AudioOptionError
from app.services.jobs import JobService
from app.services.streaming import EncodedStream

# What OpenAI's response_format may name here (its "aac" is refused with this list).
RESPONSE_FORMATS = ("mp3", "opus", "wav", "flac", "pcm")
OUR_MIN_SPEED, OUR_MAX_SPEED = 0.5, 2.0
_CREATED = int(time.time())


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"
    param = "model"


class OpenAIParamError(InvalidRequestError):
    """A 400 that names the request field at fault (OpenAI's ``param``)."""

    def __init__(self, message: str, param: str, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.param = param
        self.error_code = code


# --- errors in OpenAI's shape -------------------------------------------------------------

_TYPES_BY_STATUS: dict[int, str] = {401: "invalid_request_error", 429: "rate_limit_error"}


def openai_error(
    status: int, message: str, *, code: str | None, param: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    error_type = _TYPES_BY_STATUS.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _from_service_error(exc: ServiceError) -> JSONResponse:
    param = getattr(exc, "param", None)
    code = getattr(exc, "error_code", None) or exc.code
    if exc.code == "unauthorized":
        code = "invalid_api_key"
    if param is None and exc.code in ("invalid_text", "text_too_long"):
        param = "input"
    if param is None and exc.code in ("voice_not_found", "voice_transcript_missing", "invalid_reference_audio"):
        param = "voice"
    # OpenAI answers bad values (an unknown voice included) with 400, never 422.
    status = 400 if exc.status_code == 422 or exc.code == "voice_not_found" else exc.status_code
    return openai_error(status, exc.message, code=code, param=param, headers=exc.headers)


def _from_validation_errors(errors: list[Any]) -> JSONResponse:
    first = errors[0] if errors else {}
    location = [str(part) for part in first.get("loc", ()) if part != "body"]
    param = location[0] if location else None
    if first.get("type") == "json_invalid":
        return openai_error(400, "the request body is not valid JSON", code="invalid_json")
    message = first.get("msg", "invalid request")
    if param is not None:
        message = f"{'.'.join(location)}: {message}"
    return openai_error(400, message, code="invalid_value", param=param)


class OpenAIRoute(APIRoute):
    """Routes whose errors (API key, validation, service errors) come in OpenAI's
    shape, which the SDK parses into its exceptions."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as exc:
                return _from_service_error(exc)
            except AudioOptionError as exc:
                error = audio_option_error(exc)
                return openai_error(400, error.message, code=error.code, param=error.param)
            except RequestValidationError as exc:
                return _from_validation_errors(list(exc.errors()))
            except ValidationError as exc:
                return _from_validation_errors(exc.errors())

        return route


router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)


# --- mapping OpenAI's request to ours ------------------------------------------------------


def parse_response_format(value: str) -> AudioFormat:
    if value.strip().lower() == "aac":
        raise OpenAIParamError(
            f"response_format 'aac' is not offered by this server; use one of: {', '.join(RESPONSE_FORMATS)}",
            param="response_format",
            code="unsupported_format",
        )
    try:
        return AudioFormat.parse(value)
    except AudioOptionError as exc:
        raise OpenAIParamError(
            f"unsupported response_format {value!r}; use one of: {', '.join(RESPONSE_FORMATS)}",
            param="response_format",
            code="unsupported_format",
        ) from exc


def map_speed(speed: float | None) -> float | None:
    """OpenAI's 0.25-4.0 (validated by the schema) clamped to the model's 0.5-2.0;
    omitted: DEFAULT_SPEED."""
    if speed is None:
        return None
    return min(max(speed, OUR_MIN_SPEED), OUR_MAX_SPEED)


def resolve_voice(jobs: JobService, name: str) -> str | None:
    """A voice of this server by name; OpenAI's built-in names (alloy, nova, ...)
    mean the default voice unless a sample of that very name exists."""
    if name.strip().lower() in OPENAI_VOICES:
        try:
            jobs.planner.voices.get(name)
        except VoiceNotFoundError:
            return None
    return name


def model_check(model: str) -> None:
    if model not in ACCEPTED_MODELS:
        raise ModelNotFoundError(
            f"The model {model!r} does not exist on this server; use {MODEL_ID!r} "
            f"(aliases: {', '.join(m for m in ACCEPTED_MODELS if m != MODEL_ID)})"
        )


def to_tts_request(jobs: JobService, body: SpeechRequest, fmt: AudioFormat) -> TTSRequest:
    return TTSRequest(
        text=body.input,
        ref_name=resolve_voice(jobs, body.voice_name),
        ref_text=body.ref_text,
        speed=map_speed(body.speed),
        seed=body.seed,
        nfe_step=body.nfe_step,
        cfg_strength=body.cfg_strength,
        format=fmt.value,
        sample_rate=body.sample_rate,
    )


# --- server-sent events ------------------------------------------------------------------


def sse_event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


def sse_delta(data: bytes) -> bytes:
    return sse_event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")})


def sse_done(input_chars: int) -> Callable[[EncodedStream], bytes]:
    def done(stream: EncodedStream) -> bytes:
        # No tokens here: input counts characters, output counts mel frames (~94 per second).
        output = round(stream.duration * 24000 / 256)
        usage = {"input_tokens": input_chars, "output_tokens": output, "total_tokens": input_chars + output}
        return sse_event({"type": "speech.audio.done", "usage": usage})

    return done


def sse_error(exc: ServiceError) -> bytes:
    error_type = "server_error" if exc.status_code >= 500 else "invalid_request_error"
    return sse_event({"type": "error", "error": {"message": exc.message, "type": error_type, "code": exc.code}})


# --- endpoints ---------------------------------------------------------------------------------


@router.post(
    "/audio/speech",
    summary="OpenAI-compatible speech synthesis",
    response_class=Response,
    responses={
        200: {
            "description": "The audio (streamed as it is synthesized, except flac or `stream: false`), "
            'or with `stream_format: "sse"` an event stream of base64 audio deltas',
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("audio/mpeg", "audio/ogg", "audio/wav", "audio/flac", "audio/pcm")
            }
            | {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **openai_error_responses(400, 401, 404, 409, 413, 429, 500, 503, 504),
    },
)
async def create_speech(body: SpeechRequest, jobs: JobsDep) -> Response:
    """`model`: "f5-tts-vi" (or "tts-1", "tts-1-hd", "gpt-4o-mini-tts"). `voice`: a voice of
    `/v1/audio/voices`; OpenAI's names use the default voice. `speed`: 0.25-4.0, clamped to
    0.5-2.0. `instructions`: ignored. Extra fields: `seed`, `nfe_step`, `cfg_strength`,
    `ref_text`, `sample_rate`, `stream` (false: one complete file). The job id is in
    `X-Job-Id` (`/tts/status/{id}`, `/output/{id}.<ext>`)."""
    model_check(body.model)
    fmt = parse_response_format(body.response_format)
    sse = body.stream_format == "sse"
    if (sse or body.stream) and not fmt.streamable:
        raise OpenAIParamError(
            f"response_format {fmt.value!r} cannot be streamed; use one of: {', '.join(STREAMABLE_FORMAT_NAMES)} "
            "(or ask for flac without streaming)",
            param="response_format",
            code="unsupported_format",
        )
    request = to_tts_request(jobs, body, fmt)
    if not sse and (body.stream is False or not fmt.streamable):
        return await _whole_file(jobs, request)
    job_id, stream, owned, duplicate = await open_stream(jobs, request, fmt)
    headers = stream_headers(job_id, stream, duplicate)
    if sse:
        return DisconnectAwareStreamingResponse(
            stream_body(
                jobs,
                job_id,
                stream,
                owned=owned,
                frame=sse_delta,
                trailer=sse_done(len(body.input)),
                on_error=sse_error,
            ),
            media_type="text/event-stream",
            headers=headers,
        )
    return DisconnectAwareStreamingResponse(
        stream_body(jobs, job_id, stream, owned=owned), media_type=stream.media_type, headers=headers
    )


async def _whole_file(jobs: JobService, request: TTSRequest) -> FileResponse:
    submission = await jobs.submit(request)
    record = await jobs.wait(submission.record.id)
    if record.status is not JobStatus.completed:
        raise error_from_code(record.error_code or "synthesis_failed", record.error_message or "job did not complete")
    assert record.output_filename is not None
    path, media_type = jobs.output_file(record.output_filename)
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "X-Job-Id": record.id,
            "X-Request-Id": record.id,
            "X-Sample-Rate": str(record.sample_rate),
            "X-Audio-Duration": f"{record.duration or 0.0:.3f}",
            "X-Processing-Time": f"{record.processing_time or 0.0:.3f}",
        },
    )


@router.get(
    "/models",
    response_model=ModelList,
    summary="Models (OpenAI list shape)",
    responses=openai_error_responses(401),
)
async def list_models() -> ModelList:
    return ModelList(data=[ModelObject(id=MODEL_ID, created=_CREATED, owned_by="f5-tts-vi")])


@router.get(
    "/models/{model}",
    response_model=ModelObject,
    summary="One model; OpenAI's speech model names are aliases of f5-tts-vi",
    responses=openai_error_responses(401, 404),
)
async def retrieve_model(model: str) -> ModelObject:
    model_check(model)
    return ModelObject(id=model, created=_CREATED, owned_by="f5-tts-vi")


@router.get(
    "/audio/voices",
    response_model=VoiceList,
    summary="Voices usable as `voice` on /v1/audio/speech",
    responses=openai_error_responses(401),
)
async def list_voices(request: Request) -> VoiceList:
    listing = await request.app.state.voice_service.list()
    return VoiceList(
        data=[
            VoiceObject(
                id=item.name,
                name=item.name,
                default=item.name == listing.default,
                transcript=item.transcript,
                duration=item.duration,
            )
            for item in listing.voices
        ],
        voices=[item.name for item in listing.voices],
        default=listing.default,
        openai_voices=list(OPENAI_VOICES),
    )
