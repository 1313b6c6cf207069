"""Pieces shared by the sync and async clients: request descriptions, error
decoding and the reading of job states. No I/O here."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.client.errors import APIError

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "f5-tts-vi-client/1"

# Job states of the REST service (seeds.md section 3) and of RunPod.
FINISHED_STATES = frozenset({"completed", "failed", "cancelled"})
RUNPOD_FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})


@dataclass(frozen=True)
class Call:
    """One HTTP request, described without sending it."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    raw: bool = False  # answer is bytes (audio), not JSON
    headers: dict[str, str] = field(default_factory=dict)

    def request_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.json is not None:
            kwargs["json"] = self.json
        if self.params:
            kwargs["params"] = self.params
        if self.headers:
            kwargs["headers"] = self.headers
        return kwargs


def auth_headers(api_key: str | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def error_from_response(response: httpx.Response) -> APIError:
    """Build an APIError from any error answer: the service's JSON error, FastAPI's
    ``detail``, RunPod's ``{"error": "..."}``, or plain text."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = response.text
    code = f"http_{response.status_code}"
    message = response.reason_phrase or "error"
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            code = str(err.get("code") or code)
            message = str(err.get("message") or message)
        elif isinstance(err, str):
            message = err
        elif "detail" in body:
            message = body["detail"] if isinstance(body["detail"], str) else json.dumps(body["detail"])
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:500]
    return APIError(response.status_code, code, message, body)


def decode(call: Call, response: httpx.Response) -> Any:
    if not response.is_success:
        raise error_from_response(response)
    if call.raw:
        return response.content
    if not response.content:
        return {}
    return response.json()


def tts_body(
    text: str,
    *,
    ref_name: str | None,
    speed: float | None,
    job_id: str | None,
    is_async: bool,
    options: dict[str, Any],
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if ref_name is not None:
        body["ref_name"] = ref_name
    if speed is not None:
        body["speed"] = speed
    if job_id is not None:
        body["job_id"] = job_id
    if is_async:
        body["async"] = True
    body.update({key: value for key, value in options.items() if value is not None})
    return body


def job_id_of(submitted: dict[str, Any]) -> str:
    """The id to poll after POST /tts with async: ``job_id``, else ``request_id``."""
    for key in ("job_id", "request_id", "id"):
        value = submitted.get(key)
        if value:
            return str(value)
    raise ValueError(f"no job id in {submitted!r}")


def state_of(record: dict[str, Any]) -> str:
    """Lower-case state of a status or progress answer."""
    value = record.get("status") or record.get("state") or ""
    return str(value).lower()


def percent_of(record: dict[str, Any]) -> float | None:
    """Progress in percent (0-100) from a progress or status answer (the service's
    ``progress`` and the worker's ``percent`` are both percent), if it has one."""
    for key in ("percent", "progress"):
        value = record.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            return max(0.0, min(100.0, float(value)))
        if isinstance(value, dict):
            return percent_of(value)
    return None


def b64decode_audio(data: str) -> bytes:
    return base64.b64decode(data, validate=False)
