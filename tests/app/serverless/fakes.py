"""Unit-test doubles: an in-memory stand-in for the service's HTTP API (served
through httpx.MockTransport) and a recorder for the worker's background work.
Integration tests never use these: they run the real service."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


def wav_bytes(n_samples: int, sample_rate: int = 24000) -> bytes:
    """A real PCM16 mono WAV of silence."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(b"\x00\x00" * n_samples)
    return buf.getvalue()


@dataclass
class FakeJob:
    id: str
    body: dict[str, Any]
    polls_left: int
    outcome: str = "completed"  # completed | failed
    status: str = "queued"
    cancelled: bool = False


@dataclass
class FakeService:
    """Answers like app/api/routes: POST /tts (async), /tts/progress, /tts/status,
    /tts/kill, /output, /check-download. ``polls`` = progress polls before the end."""

    polls: int = 2
    audio: bytes = field(default_factory=lambda: wav_bytes(2400))
    outcome: str = "completed"
    submit_failures: list[Any] = field(default_factory=list)  # exceptions or status codes, used in order
    progress_failures: list[Any] = field(default_factory=list)
    confirm_after_checks: int | None = None
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    submits: int = 0
    kills: list[str] = field(default_factory=list)
    checks: int = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.requests if method is None or r.method == method]

    def _fail(self, failures: list[Any], request: httpx.Request) -> httpx.Response | None:
        if not failures:
            return None
        failure = failures.pop(0)
        if isinstance(failure, int):
            return httpx.Response(failure, json={"error": {"code": f"code_{failure}", "message": f"failure {failure}"}})
        raise failure if isinstance(failure, Exception) else failure(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST" and path == "/tts":
            failed = self._fail(self.submit_failures, request)
            if failed is not None:
                return failed
            self.submits += 1
            body = json.loads(request.content)
            job_id = body["job_id"]
            duplicate = job_id in self.jobs
            if not duplicate:
                polls = 10**9 if body["text"].startswith("LONG") else self.polls  # "LONG...": never ends
                self.jobs[job_id] = FakeJob(job_id, body, polls, self.outcome)
            job = self.jobs[job_id]
            return httpx.Response(
                200,
                json={
                    "request_id": job_id,
                    "job_id": job_id,
                    "status": job.status,
                    "queue_position": 1,
                    "duplicate": duplicate,
                },
            )
        parts = path.strip("/").split("/")
        if path.startswith("/tts/progress/"):
            failed = self._fail(self.progress_failures, request)
            if failed is not None:
                return failed
            job = self.jobs.get(parts[-1])
            if job is None:
                return httpx.Response(404, json={"error": {"code": "job_not_found", "message": "no such job"}})
            if job.status not in ("completed", "failed", "cancelled"):
                if job.polls_left <= 0:
                    job.status = job.outcome
                else:
                    job.status = "processing"
                    job.polls_left -= 1
            done = self.polls - job.polls_left
            percent = 100.0 if job.status == "completed" else 100.0 * done / max(1, self.polls + 1)
            return httpx.Response(
                200,
                json={
                    "job_id": job.id,
                    "request_id": job.id,
                    "status": job.status,
                    "progress": percent,
                    "message": job.status,
                },
            )
        if path.startswith("/tts/status/"):
            job = self.jobs[parts[-1]]
            record: dict[str, Any] = {"job_id": job.id, "request_id": job.id, "status": job.status, "progress": 100.0}
            if job.status == "completed":
                record["result"] = {
                    "filename": f"{job.id}.wav",
                    "output_path": f"outputs/{job.id}.wav",
                    "download_url": f"/output/{job.id}.wav",
                    "sample_rate": 24000,
                    "duration": (len(self.audio) - 44) / 2 / 24000,
                    "processing_time": 0.5,
                }
            elif job.status == "failed":
                record["error"] = {"code": "synthesis_failed", "message": "the model broke"}
            return httpx.Response(200, json=record)
        if path.startswith("/tts/kill/"):
            self.kills.append(parts[-1])
            job = self.jobs.get(parts[-1])
            if job is not None:
                job.status = "cancelled"
            return httpx.Response(200, json={"job_id": parts[-1], "status": "cancelled", "cancelled": True})
        if path.startswith("/output/"):
            return httpx.Response(200, content=self.audio, headers={"content-type": "audio/wav"})
        if path.startswith("/check-download/"):
            self.checks += 1
            confirmed = self.confirm_after_checks is not None and self.checks >= self.confirm_after_checks
            return httpx.Response(200, json={"confirmed": confirmed, "timestamp": None, "job_id": parts[-1]})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})


class RecordingBackground:
    """Stands in for BackgroundWork in handler unit tests."""

    def __init__(self) -> None:
        self.confirmations: list[str] = []
        self.webhooks: list[dict[str, Any]] = []
        self.drained = False
        self.closed = False

    def watch_confirmation(self, job_id: str, timeout: float | None = None) -> None:
        self.confirmations.append(job_id)

    def send_webhook(self, payload: dict[str, Any]) -> None:
        self.webhooks.append(payload)

    def drain(self, timeout: float) -> bool:
        self.drained = True
        return True

    def close(self) -> None:
        self.closed = True


class RecordingUploader:
    def __init__(self, fail: bool = False) -> None:
        self.uploads: list[tuple[str, str, int]] = []
        self.fail = fail

    async def upload_async(self, data: bytes, job_id: str, filename: str, content_type: str = "audio/wav") -> str:
        if self.fail:
            raise RuntimeError("bucket is gone")
        self.uploads.append((job_id, filename, len(data)))
        return f"https://bucket.example.invalid/{job_id}/{filename}?X-Amz-Signature=abc"
