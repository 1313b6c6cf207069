"""What the clients raise.

``APIError`` carries the service's JSON error (``{"error": {"code", "message"}}``)
when there is one; ``transient`` says whether trying again later can help
(429 queue full, 502/503/504 while the service starts or restarts). Network
failures stay ``httpx.TransportError`` so callers can tell "no answer" from
"a refusal".
"""

from __future__ import annotations

from typing import Any

TRANSIENT_STATUS_CODES = frozenset({408, 425, 429, 500, 502, 503, 504})


class TTSClientError(Exception):
    """Base class of everything the clients raise on purpose."""


class APIError(TTSClientError):
    def __init__(self, status_code: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.body = body

    @property
    def transient(self) -> bool:
        # 500 counts only when the service says so: a crash inside a request
        # (internal_error) may pass on retry, a failed synthesis will not.
        if self.status_code == 500:
            return self.code in {"internal_error", "http_error"}
        return self.status_code in TRANSIENT_STATUS_CODES


class JobFailedError(TTSClientError):
    """A job ended in failed or cancelled (REST) or FAILED/CANCELLED/TIMED_OUT (RunPod)."""

    def __init__(self, job_id: str, status: str, error: Any = None) -> None:
        super().__init__(f"job {job_id} ended {status}: {error}")
        self.job_id = job_id
        self.status = status
        self.error = error


class JobTimeoutError(TTSClientError):
    """The caller's wait limit passed before the job finished (the job itself may go on)."""

    def __init__(self, job_id: str, seconds: float) -> None:
        super().__init__(f"job {job_id} not finished after {seconds:.0f} s")
        self.job_id = job_id
        self.seconds = seconds


class NoAudioError(TTSClientError):
    """A RunPod output holds neither audio_base64, audio_url nor download_url."""
