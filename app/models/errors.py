"""The error body every 4xx/5xx answer carries (documented in OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from app.models.tts import ErrorInfo


class ErrorResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": {"code": "voice_not_found", "message": "unknown voice 'x'"}}]}
    )

    error: ErrorInfo


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the given status codes."""
    descriptions = {
        400: "bad input (malformed JSON, invalid name)",
        401: "missing or wrong API key",
        404: "unknown job, voice or file",
        409: "the job's state does not allow this",
        410: "the file was removed by retention",
        413: "body or text too large",
        422: "invalid field values or unusable text/voice",
        429: "queue full; see Retry-After",
        500: "synthesis failed",
        503: "model not loaded (yet) or shutting down",
        504: "job timed out",
    }
    return {code: {"model": ErrorResponse, "description": descriptions.get(code, "error")} for code in codes}
