"""Unit tests of the RunPod handler against an in-memory service (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest

from app.serverless.config import WorkerSettings
from app.serverless.handler import TTSHandler, service_job_id
from app.serverless.schemas import HandlerOutput
from tests.app.serverless.fakes import FakeService, RecordingBackground, RecordingUploader, wav_bytes


def make_settings(**overrides: Any) -> WorkerSettings:
    values: dict[str, Any] = {
        "service_url": "http://tts.internal:8000",
        "public_url": "https://pod-8000.proxy.example",
        "poll_interval_seconds": 0.01,
        "progress_min_interval_seconds": 0.0,
        "service_retry_seconds": 2.0,
        "retry_initial_delay_seconds": 0.02,
        "confirmation_timeout_seconds": 60.0,
    }
    values.update(overrides)
    return WorkerSettings(**values)


def make_handler(service: FakeService, progress: list | None = None, **overrides: Any) -> tuple[TTSHandler, Any]:
    background = RecordingBackground()
    uploader = overrides.pop("uploader", None)
    handler = TTSHandler(
        make_settings(**overrides),
        transport=service.transport(),
        progress_sink=(lambda job, payload: progress.append(payload)) if progress is not None else lambda j, p: None,
        background=background,  # type: ignore[arg-type]
        uploader=uploader,
    )
    return handler, background


def job(input_: Any, job_id: str = "rp-job-1") -> dict[str, Any]:
    return {"id": job_id, "input": input_}


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({}, "text: Field required"),
        ({"text": "   "}, "text is blank"),
        ({"text": "Xin chào", "speed": 3.0}, "speed"),
        ({"text": "Xin chào", "speed": 0.1}, "speed"),
        ({"text": "Xin chào", "job_id": "../etc/passwd"}, "job_id"),
        ({"text": "Xin chào", "nfe_step": 0}, "nfe_step"),
        ("not an object", "input"),
    ],
)
async def test_invalid_input_fails_at_once_without_calling_the_service(payload: Any, fragment: str) -> None:
    service = FakeService()
    handler, background = make_handler(service)
    result = await handler.handle(job(payload))
    assert set(result) == {"error"}
    assert result["error"].startswith("invalid_input: ")
    assert fragment in result["error"]
    assert service.requests == []
    assert background.webhooks == []


async def test_completed_job_returns_the_seed_output_with_small_audio_inline() -> None:
    service = FakeService(polls=2)
    progress: list[dict[str, Any]] = []
    handler, background = make_handler(service, progress)
    result = await handler.handle(job({"text": "Xin chào Việt Nam"}))

    HandlerOutput.model_validate(result)  # nothing unexpected in it
    assert result["job_id"] == "rp-job-1"
    assert result["filename"] == "rp-job-1.wav"
    assert result["download_url"] == "https://pod-8000.proxy.example/output/rp-job-1.wav"
    assert result["confirmation_url"] == "https://pod-8000.proxy.example/confirm-download/rp-job-1"
    assert result["sample_used"] == "main.wav"
    assert result["processing_time_seconds"] >= 0
    assert base64.b64decode(result["audio_base64"]) == service.audio
    assert result["audio_bytes"] == len(service.audio)
    assert result["sample_rate"] == 24000
    assert result["confirmation_timeout_seconds"] == 60.0
    assert "duplicate" in result and result["duplicate"] is False

    # The request the service got: the seed's defaults, async, RunPod's id as job id.
    sent = json.loads(service.requests[0].content)
    assert sent == {
        "text": "Xin chào Việt Nam",
        "ref_name": "main.wav",
        "speed": 0.9,
        "job_id": "rp-job-1",
        "async": True,
        "format": "wav",
    }
    # Progress went out as it changed and ended at 100 %.
    assert progress[0]["status"] == "processing"
    assert progress[-1]["status"] == "completed" and progress[-1]["percent"] == 100.0
    # The worker waits for the download confirmation and sends the webhook.
    assert background.confirmations == ["rp-job-1"]
    assert background.webhooks[0]["event"] == "tts.completed"
    assert background.webhooks[0]["id"] == "rp-job-1"
    assert "audio_base64" not in background.webhooks[0]["output"]
    assert background.webhooks[0]["output"]["download_url"] == result["download_url"]


async def test_optional_fields_and_client_job_id_are_forwarded() -> None:
    service = FakeService(polls=0)
    handler, _ = make_handler(service)
    result = await handler.handle(
        job(
            {
                "text": "Xin chào",
                "ref_name": "sample/3_Nu",
                "speed": 1.2,
                "job_id": "client_job.7",
                "nfe_step": 8,
                "seed": 42,
                "cfg_strength": 1.5,
                "ref_text": "xin chào",
                "unknown_key": "ignored",
            }
        )
    )
    assert result["job_id"] == "client_job.7"
    assert result["sample_used"] == "3_Nu.wav"
    sent = json.loads(service.requests[0].content)
    assert sent["job_id"] == "client_job.7"
    assert sent["ref_name"] == "sample/3_Nu"
    assert (sent["speed"], sent["nfe_step"], sent["seed"], sent["cfg_strength"]) == (1.2, 8, 42, 1.5)
    assert sent["ref_text"] == "xin chào"
    assert "unknown_key" not in sent


async def test_audio_over_the_inline_limit_is_not_embedded() -> None:
    service = FakeService(polls=0, audio=wav_bytes(24000 * 3))  # ~144 kB
    handler, background = make_handler(service, inline_audio_max_bytes=50_000)
    result = await handler.handle(job({"text": "Xin chào"}))
    assert "audio_base64" not in result
    assert result["download_url"].endswith("/output/rp-job-1.wav")
    # The duration told the handler the file is too big: it did not even download it.
    assert "/output/rp-job-1.wav" not in service.paths("GET")
    assert background.confirmations == ["rp-job-1"]


async def test_bucket_upload_returns_a_presigned_url_and_needs_no_confirmation() -> None:
    service = FakeService(polls=0)
    uploader = RecordingUploader()
    handler, background = make_handler(service, uploader=uploader)
    result = await handler.handle(job({"text": "Xin chào"}))
    assert result["audio_url"].startswith("https://bucket.example.invalid/rp-job-1/rp-job-1.wav")
    assert result["download_url"] == result["audio_url"]
    assert "audio_base64" not in result
    assert result["confirmation_timeout_seconds"] == 0.0
    assert uploader.uploads == [("rp-job-1", "rp-job-1.wav", len(service.audio))]
    assert background.confirmations == []


async def test_a_failed_upload_does_not_fail_a_synthesized_job() -> None:
    service = FakeService(polls=0)
    handler, background = make_handler(service, uploader=RecordingUploader(fail=True))
    result = await handler.handle(job({"text": "Xin chào"}))
    assert "error" not in result
    assert result["warning"] == "upload_failed: RuntimeError: bucket is gone"
    # Back to the worker path: inline audio, worker URL, confirmation wait.
    assert base64.b64decode(result["audio_base64"]) == service.audio
    assert result["download_url"] == "https://pod-8000.proxy.example/output/rp-job-1.wav"
    assert background.confirmations == ["rp-job-1"]
    assert background.webhooks[0]["event"] == "tts.completed"


async def test_an_audio_fetch_failure_after_synthesis_still_completes() -> None:
    service = FakeService(polls=0)

    def broken_output(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/output/"):
            return httpx.Response(503, json={"error": {"code": "service_unavailable", "message": "stopping"}})
        return service.handle(request)

    handler = TTSHandler(
        make_settings(service_retry_seconds=0.1),
        transport=httpx.MockTransport(broken_output),
        progress_sink=lambda j, p: None,
        background=RecordingBackground(),  # type: ignore[arg-type]
    )
    result = await handler.handle(job({"text": "Xin chào"}))
    assert "error" not in result and "audio_base64" not in result
    assert result["warning"].startswith("audio not attached: service_unavailable: download:")
    assert result["download_url"].endswith("/output/rp-job-1.wav")


async def test_transient_errors_are_retried_until_the_service_answers() -> None:
    service = FakeService(
        polls=1,
        submit_failures=[httpx.ConnectError("connection refused"), 503, 502],
        progress_failures=[httpx.ReadTimeout("slow"), 503],
    )
    handler, _ = make_handler(service)
    result = await handler.handle(job({"text": "Xin chào"}))
    assert "error" not in result
    assert service.paths("POST").count("/tts") == 4  # refused, 503, 502, then accepted
    assert service.submits == 1


@pytest.mark.parametrize("status", [400, 401, 404, 409, 413, 422])
async def test_permanent_errors_fail_at_once(status: int) -> None:
    service = FakeService(submit_failures=[status])
    handler, background = make_handler(service)
    result = await handler.handle(job({"text": "Xin chào"}))
    assert result == {"error": f"code_{status}: failure {status}"}
    assert service.paths() == ["/tts"]
    assert background.webhooks[0] == {
        "event": "tts.failed",
        "id": "rp-job-1",
        "job_id": "rp-job-1",
        "status": "FAILED",
        "error": f"code_{status}: failure {status}",
    }


async def test_a_service_that_stays_away_fails_the_job_after_the_retry_budget() -> None:
    service = FakeService(submit_failures=[httpx.ConnectError("refused")] * 100)
    handler, _ = make_handler(service, service_retry_seconds=0.6, retry_initial_delay_seconds=0.1)
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await handler.handle(job({"text": "Xin chào"}))
    elapsed = loop.time() - start
    assert result["error"].startswith("service_unavailable: submit: the TTS service did not answer for 1 s")
    assert "ConnectError" in result["error"]
    assert 0.5 <= elapsed < 2.0
    assert 2 <= len(service.requests) <= 6  # backoff, not a busy loop


async def test_a_job_the_service_failed_is_reported_with_its_code() -> None:
    service = FakeService(polls=1, outcome="failed")
    handler, background = make_handler(service)
    result = await handler.handle(job({"text": "Xin chào"}))
    assert result == {"error": "synthesis_failed: the model broke"}
    assert background.confirmations == []
    assert background.webhooks[-1]["status"] == "FAILED"


async def test_same_job_delivered_twice_at_once_runs_once() -> None:
    service = FakeService(polls=3)
    handler, background = make_handler(service)
    first, second = await asyncio.gather(
        handler.handle(job({"text": "Xin chào"})), handler.handle(job({"text": "Xin chào"}))
    )
    assert service.submits == 1
    assert first["duplicate"] is False and second["duplicate"] is True
    assert {k: v for k, v in first.items() if k != "duplicate"} == {k: v for k, v in second.items() if k != "duplicate"}
    assert background.confirmations == ["rp-job-1"]


async def test_a_redelivered_finished_job_gets_the_remembered_result() -> None:
    service = FakeService(polls=0)
    handler, background = make_handler(service)
    first = await handler.handle(job({"text": "Xin chào", "job_id": "same"}, job_id="rp-a"))
    again = await handler.handle(job({"text": "Xin chào", "job_id": "same"}, job_id="rp-b"))
    assert service.submits == 1
    assert again == {**first, "duplicate": True}
    assert len(background.webhooks) == 1


async def test_a_job_id_the_service_already_has_is_followed_not_run_again() -> None:
    service = FakeService(polls=0)
    first = await make_handler(service)[0].handle(job({"text": "Xin chào", "job_id": "kept"}))
    # A new worker process (nothing remembered) gets the same job id.
    second = await make_handler(service)[0].handle(job({"text": "Xin chào", "job_id": "kept"}))
    assert service.submits == 2 and len(service.jobs) == 1  # asked twice, synthesized once
    assert first["duplicate"] is False and second["duplicate"] is True
    assert second["filename"] == first["filename"] == "kept.wav"


async def test_cancelling_the_runpod_job_cancels_the_service_job() -> None:
    service = FakeService(polls=10_000)
    handler, background = make_handler(service, poll_interval_seconds=0.02)
    task = asyncio.create_task(handler.handle(job({"text": "Xin chào"})))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if service.jobs.get("rp-job-1") and service.jobs["rp-job-1"].status == "processing":
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert service.kills == ["rp-job-1"]
    assert background.confirmations == []
    # Nothing is left running in the handler.
    assert handler._inflight == {}


async def test_job_timeout_kills_the_service_job() -> None:
    service = FakeService(polls=10_000)
    handler, _ = make_handler(service, job_timeout_seconds=0.2)
    result = await handler.handle(job({"text": "Xin chào"}))
    assert result["error"].startswith("job_timeout: ")
    assert service.kills == ["rp-job-1"]


async def test_progress_is_throttled() -> None:
    service = FakeService(polls=30)
    progress: list[dict[str, Any]] = []
    handler, _ = make_handler(service, progress, progress_min_interval_seconds=10.0)
    await handler.handle(job({"text": "Xin chào"}))
    # 31 polls: only the state changes (queued->processing, processing->completed) got through.
    assert [p["status"] for p in progress] == ["processing", "completed"]


def test_concurrency_modifier_lets_several_jobs_in() -> None:
    handler = TTSHandler(make_settings(concurrency=6), background=RecordingBackground())  # type: ignore[arg-type]
    assert handler.concurrency_modifier(1) == 6
    assert handler.concurrency_modifier(6) == 6


def test_service_job_id() -> None:
    assert service_job_id({"id": "abc-123"}, None) == "abc-123"
    assert service_job_id({"id": "abc-123"}, "mine") == "mine"
    odd = service_job_id({"id": "has/slash and space"}, None)
    assert odd.startswith("rp-") and len(odd) == 35
    assert odd == service_job_id({"id": "has/slash and space"}, None)


def test_public_url_defaults() -> None:
    assert WorkerSettings(service_url="http://127.0.0.1:8000").client_base_url() == "http://127.0.0.1:8000"
    on_pod = WorkerSettings(service_url="http://127.0.0.1:8000", pod_id="abc123")
    assert on_pod.client_base_url() == "https://abc123-8000.proxy.runpod.net"
    explicit = WorkerSettings(service_url="http://127.0.0.1:8000", pod_id="abc", public_url="https://tts.example/")
    assert explicit.client_base_url() == "https://tts.example"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTS_SERVICE_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("WORKER_CONCURRENCY", "3")
    monkeypatch.setenv("NEXTJS_WEBHOOK_URL", "http://127.0.0.1:3000/api/runpod-webhook")
    monkeypatch.setenv("BUCKET_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("BUCKET_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("BUCKET_SECRET_ACCESS_KEY", "")
    monkeypatch.setenv("API_KEY", "secret")
    settings = WorkerSettings()
    assert settings.service_url == "http://127.0.0.1:9999"
    assert settings.concurrency == 3
    assert settings.webhook_url == "http://127.0.0.1:3000/api/runpod-webhook"
    assert settings.s3_enabled is False  # no secret: no bucket
    assert settings.api_key_value == "secret"
