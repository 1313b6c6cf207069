"""One exception type per failure kind, mapped once to an HTTP status and a
JSON body ``{"error": {"code", "message"}}``.

Services raise these; ``install_error_handlers`` turns them (and FastAPI's and
Starlette's own errors) into responses, so no router builds an error by hand.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.services.audio.errors import AudioOptionError, UnsupportedSampleRateError

logger = logging.getLogger("app.errors")


class ServiceError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


# --- 4xx: the caller's mistake ---
class InvalidRequestError(ServiceError):
    status_code = 400
    code = "invalid_request"


class InvalidJsonError(InvalidRequestError):
    code = "invalid_json"


class InvalidNameError(InvalidRequestError):
    """A file or job name that could escape its folder or is otherwise unusable."""

    code = "invalid_name"


class WebhookNotAllowedError(InvalidRequestError):
    code = "webhook_not_allowed"


class AudioOptionRequestError(InvalidRequestError):
    """An output format or sample rate the service does not offer (or cannot stream).

    Made from ``app.services.audio``'s ``AudioOptionError`` by ``audio_option_error``;
    the body adds the field and the allowed values.
    """

    param: ClassVar[str] = "format"

    def __init__(self, message: str, *, allowed: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.allowed = allowed

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        body["error"]["param"] = self.param
        body["error"]["allowed"] = list(self.allowed)
        return body


class UnsupportedAudioFormatError(AudioOptionRequestError):
    code = "unsupported_format"


class UnsupportedSampleRateRequestError(AudioOptionRequestError):
    code = "unsupported_sample_rate"
    param = "sample_rate"


class UnauthorizedError(ServiceError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str = "missing or wrong API key") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class NotFoundError(ServiceError):
    status_code = 404
    code = "not_found"


class JobNotFoundError(NotFoundError):
    code = "job_not_found"


class VoiceNotFoundError(NotFoundError):
    code = "voice_not_found"


class OutputNotFoundError(NotFoundError):
    code = "output_not_found"


class JobStateConflictError(ServiceError):
    """The job is not in a state that allows the operation (e.g. killing a finished job)."""

    status_code = 409
    code = "job_state_conflict"


class OutputNotReadyError(JobStateConflictError):
    code = "output_not_ready"


class OutputExpiredError(ServiceError):
    status_code = 410
    code = "output_expired"


class PayloadTooLargeError(ServiceError):
    status_code = 413
    code = "payload_too_large"


class UnprocessableError(ServiceError):
    status_code = 422
    code = "unprocessable"


class InvalidTextError(UnprocessableError):
    code = "invalid_text"


class TextTooLongError(UnprocessableError):
    code = "text_too_long"


class VoiceTranscriptMissingError(UnprocessableError):
    code = "voice_transcript_missing"


class InvalidReferenceAudioError(UnprocessableError):
    code = "invalid_reference_audio"


# --- voice uploads and inline reference clips ---
class VoiceExistsError(ServiceError):
    status_code = 409
    code = "voice_exists"


class VoiceProtectedError(ServiceError):
    status_code = 403
    code = "voice_protected"


class InvalidVoiceAudioError(UnprocessableError):
    code = "invalid_voice_audio"


class AudioUnreadableError(InvalidVoiceAudioError):
    code = "audio_unreadable"


class AudioTooShortError(InvalidVoiceAudioError):
    code = "audio_too_short"


class AudioTooLongError(InvalidVoiceAudioError):
    code = "audio_too_long"


class AudioSilentError(InvalidVoiceAudioError):
    code = "audio_silent"


class QueueFullError(ServiceError):
    status_code = 429
    code = "queue_full"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_seconds))})


# --- job outcomes reported through the sync /tts path ---
class JobCancelledError(ServiceError):
    status_code = 409
    code = "job_cancelled"


# --- 5xx: ours ---
class SynthesisFailedError(ServiceError):
    status_code = 500
    code = "synthesis_failed"


class JobTimeoutError(ServiceError):
    status_code = 504
    code = "job_timeout"


class ServiceUnavailableError(ServiceError):
    status_code = 503
    code = "service_unavailable"

    def __init__(self, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})


class ModelLoadError(ServiceError):
    status_code = 503
    code = "model_load_failed"


class VoiceStorageError(ServiceError):
    """The voices folder cannot be written (read-only mount, full disk)."""

    status_code = 503
    code = "voice_storage_unavailable"


def _error_types_by_code() -> dict[str, type[ServiceError]]:
    """Every ServiceError subclass by code, read when needed: error families defined in other
    modules (the text front-end, the transcriber) subclass ServiceError after this module loads."""
    found: dict[str, type[ServiceError]] = {}
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop(0)
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


def error_from_code(code: str, message: str) -> ServiceError:
    """Rebuild the error a job failed with (jobs store only code and message)."""
    cls = _error_types_by_code().get(code, SynthesisFailedError)
    if cls in (QueueFullError, ServiceUnavailableError, UnauthorizedError):
        cls = SynthesisFailedError  # these carry extra constructor arguments; never stored on jobs
    return cls(message)


def audio_option_error(exc: AudioOptionError) -> AudioOptionRequestError:
    """The 400 for a bad format or sample rate (``AudioOptionError`` from ``app.services.audio``)."""
    cls = (
        UnsupportedSampleRateRequestError
        if isinstance(exc, UnsupportedSampleRateError)
        else UnsupportedAudioFormatError
    )
    return cls(exc.message, allowed=exc.allowed)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
}


def _shorten(value: Any, limit: int = 200) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"... ({len(value)} characters)"
    return value


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(AudioOptionError)
    async def _audio_option_error(_: Request, exc: AudioOptionError) -> JSONResponse:
        error = audio_option_error(exc)
        return JSONResponse(error.to_body(), status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(err.get("type") == "json_invalid" for err in errors):
            return JSONResponse(error_body("invalid_json", "the request body is not valid JSON"), status_code=400)
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else first.get("msg", "invalid request")
        body = error_body("validation_error", message)
        # FastAPI's own detail stays for clients that read it, without echoing
        # huge inputs back; ctx may hold exceptions.
        detail = [{**err, "input": _shorten(err.get("input"))} if "input" in err else err for err in errors]
        body["detail"] = jsonable_encoder(detail, custom_encoder={Exception: str})
        # ASCII-escaped: an input with lone surrogates (invalid UTF-8 sent by the
        # client) must not make the error response itself fail to encode.
        return Response(json.dumps(body, ensure_ascii=True), status_code=422, media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)
