"""The clients against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.client import (
    APIError,
    AsyncRunPodTTSClient,
    AsyncTTSClient,
    JobFailedError,
    JobTimeoutError,
    NoAudioError,
    RunPodTTSClient,
    TTSClient,
    tts_input,
)
from app.client._common import error_from_response, percent_of

Handler = Callable[[httpx.Request], httpx.Response]


def recorder(answer: Handler) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return seen, httpx.MockTransport(handle)


# --- errors ---
@pytest.mark.parametrize(
    ("response", "code", "message", "transient"),
    [
        (httpx.Response(404, json={"error": {"code": "job_not_found", "message": "no job"}}), "job_not_found",
         "no job", False),
        (httpx.Response(503, json={"error": {"code": "service_unavailable", "message": "loading"}}),
         "service_unavailable", "loading", True),
        (httpx.Response(429, json={"error": {"code": "queue_full", "message": "full"}}), "queue_full", "full", True),
        (httpx.Response(422, json={"detail": [{"loc": ["body", "text"]}]}), "http_422", '[{"loc": ["body", "text"]}]',
         False),
        (httpx.Response(400, json={"error": "Job ID not found"}), "http_400", "Job ID not found", False),
        (httpx.Response(502, text="Bad gateway from proxy"), "http_502", "Bad gateway from proxy", True),
        (httpx.Response(500, json={"error": {"code": "synthesis_failed", "message": "x"}}), "synthesis_failed", "x",
         False),
        (httpx.Response(500, json={"error": {"code": "internal_error", "message": "x"}}), "internal_error", "x", True),
    ],
)  # fmt: skip
def test_error_decoding(response: httpx.Response, code: str, message: str, transient: bool) -> None:
    error = error_from_response(response)
    assert (error.status_code, error.code, error.message, error.transient) == (
        response.status_code, code, message, transient,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("record", "percent"),
    [
        ({"progress": 42.5}, 42.5),
        ({"percent": 100}, 100.0),
        ({"progress": 1.0}, 1.0),  # the service reports percent, never a fraction
        ({"progress": {"percent": 7}}, 7.0),
        ({"progress": 250}, 100.0),
        ({"status": "queued"}, None),
        ({"progress": True}, None),
    ],
)
def test_percent_of(record: dict[str, Any], percent: float | None) -> None:
    assert percent_of(record) == percent


# --- REST ---
def test_sync_synthesize_posts_the_seed_body_and_returns_the_wav() -> None:
    seen, transport = recorder(lambda r: httpx.Response(200, content=b"RIFF....WAVE", headers={"X-Job-Id": "j"}))
    with TTSClient("http://svc:8000/", api_key="k", transport=transport) as tts:
        audio = tts.synthesize("Xin chào", ref_name="3_Nu", speed=0.75, job_id="j", nfe_step=8, seed=None)
    assert audio == b"RIFF....WAVE"
    request = seen[0]
    assert (request.method, str(request.url)) == ("POST", "http://svc:8000/tts")
    assert request.headers["Authorization"] == "Bearer k"
    assert json.loads(request.content) == {
        "text": "Xin chào", "ref_name": "3_Nu", "speed": 0.75, "job_id": "j", "nfe_step": 8,
    }  # fmt: skip


def test_wait_reports_progress_and_raises_on_failure() -> None:
    states = iter(["queued", "processing", "failed", "failed"])  # the status is read once the progress ends

    def answer(request: httpx.Request) -> httpx.Response:
        state = next(states)
        if "/progress/" in request.url.path:
            return httpx.Response(200, json={"status": state, "progress": 50.0})
        body: dict[str, Any] = {"job_id": "j", "status": state}
        if state == "failed":
            body["error"] = {"code": "synthesis_failed", "message": "boom"}
        return httpx.Response(200, json=body)

    seen: list[dict[str, Any]] = []
    with (
        TTSClient("http://svc", transport=httpx.MockTransport(answer)) as tts,
        pytest.raises(JobFailedError) as failure,
    ):
        tts.wait("j", poll_interval=0.0, on_progress=seen.append)
    assert failure.value.status == "failed"
    assert failure.value.error == {"code": "synthesis_failed", "message": "boom"}
    assert len(seen) == 3


def test_wait_times_out() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"status": "processing"}))
    with TTSClient("http://svc", transport=transport) as tts, pytest.raises(JobTimeoutError):
        tts.wait("j", poll_interval=0.01, timeout=0.05)


def test_rest_errors_raise_api_error() -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(401, json={"error": {"code": "unauthorized", "message": "missing or wrong API key"}})
    )
    with TTSClient("http://svc", transport=transport) as tts, pytest.raises(APIError) as error:
        tts.voices()
    assert error.value.code == "unauthorized" and not error.value.transient


async def test_async_client_whole_flow() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/tts":
            assert json.loads(request.content)["async"] is True
            return httpx.Response(200, json={"request_id": "j1", "job_id": "j1", "status": "queued"})
        if path == "/tts/progress/j1":
            return httpx.Response(200, json={"status": "completed", "progress": 100.0})
        if path == "/tts/status/j1":
            return httpx.Response(200, json={"status": "completed", "result": {"filename": "j1.wav"}})
        if path == "/output/j1.wav":
            return httpx.Response(200, content=b"WAVDATA")
        if path == "/confirm-download/j1":
            return httpx.Response(200, json={"confirmed": True, "job_id": "j1"})
        return httpx.Response(404)

    seen, transport = recorder(answer)
    progress: list[float] = []

    async def on_progress(record: dict[str, Any]) -> None:
        progress.append(record["progress"])

    async with AsyncTTSClient("http://svc", transport=transport) as tts:
        audio = await tts.synthesize_async("Xin chào", job_id="j1", poll_interval=0.0, on_progress=on_progress)
    assert audio == b"WAVDATA"
    assert progress == [100.0]
    assert [r.url.path for r in seen] == [
        "/tts", "/tts/progress/j1", "/tts/status/j1", "/output/j1.wav", "/confirm-download/j1",
    ]  # fmt: skip


# --- RunPod ---
def runpod_answer(outputs: dict[str, Any], statuses: list[str], methods: set[str] | None = None) -> Handler:
    states = iter(statuses)

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/run"):
            return httpx.Response(200, json={"id": "rp-1", "status": "IN_QUEUE"})
        if "/status/" in path:
            if methods is not None and request.method not in methods:
                return httpx.Response(405, json={"detail": "Method Not Allowed"})
            state = next(states)
            body: dict[str, Any] = {"id": "rp-1", "status": state}
            if state == "COMPLETED":
                body["output"] = outputs
            elif state == "IN_PROGRESS":
                body["output"] = {"percent": 50.0}
            elif state == "FAILED":
                body["error"] = "voice_not_found: no voice 'x'"
            return httpx.Response(200, json=body)
        if path == "/audio.wav":
            return httpx.Response(200, content=b"FROM-" + request.url.host.encode())
        if path == "/confirm-download/j":
            return httpx.Response(200, json={"confirmed": True, "job_id": "j"})
        return httpx.Response(404)

    return answer


def test_runpod_flow_uses_base64_and_confirms() -> None:
    output = {
        "audio_base64": base64.b64encode(b"INLINE").decode(),
        "download_url": "http://worker/audio.wav",
        "confirmation_url": "http://worker/confirm-download/j",
    }
    seen, transport = recorder(runpod_answer(output, ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]))
    statuses: list[str] = []
    with RunPodTTSClient(
        "https://api.runpod.example/v2/ep", api_key="rp-key", service_api_key="svc-key", transport=transport
    ) as rp:
        audio, out = rp.synthesize("Xin chào", ref_name="3_Nu", poll_interval=0.0,
                                   on_status=lambda s: statuses.append(s["status"]))  # fmt: skip
    assert audio == b"INLINE" and out == output
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    run = seen[0]
    assert run.headers["Authorization"] == "Bearer rp-key"
    assert json.loads(run.content) == {"input": {"text": "Xin chào", "ref_name": "3_Nu"}}
    confirm = seen[-1]
    assert str(confirm.url) == "http://worker/confirm-download/j"
    assert confirm.headers["Authorization"] == "Bearer svc-key"  # the service's key, not RunPod's


def test_runpod_audio_sources_and_keys() -> None:
    seen, transport = recorder(runpod_answer({}, []))
    with RunPodTTSClient("http://rp", api_key="rp-key", service_api_key="svc-key", transport=transport) as rp:
        assert rp.fetch_audio({"audio_url": "http://bucket/audio.wav", "download_url": "http://w/audio.wav"}) == (
            b"FROM-bucket"
        )
        assert "Authorization" not in seen[-1].headers  # a presigned link must carry no other auth
        assert rp.fetch_audio({"download_url": "http://worker/audio.wav"}) == b"FROM-worker"
        assert seen[-1].headers["Authorization"] == "Bearer svc-key"
        with pytest.raises(NoAudioError):
            rp.fetch_audio({"filename": "x.wav"})
        assert rp.confirm({"filename": "x.wav"}) is None


def test_runpod_status_falls_back_to_post_for_the_local_test_server() -> None:
    seen, transport = recorder(runpod_answer({"audio_base64": ""}, ["IN_PROGRESS", "IN_PROGRESS"], {"POST"}))
    with RunPodTTSClient("http://127.0.0.1:8010", transport=transport) as rp:
        rp.status("rp-1")
        rp.status("rp-1")
    assert [r.method for r in seen] == ["GET", "POST", "POST"]


def test_runpod_failed_job_raises() -> None:
    transport = httpx.MockTransport(runpod_answer({}, ["IN_QUEUE", "FAILED"]))
    with RunPodTTSClient("http://rp", transport=transport) as rp, pytest.raises(JobFailedError) as failure:
        rp.wait("rp-1", poll_interval=0.0)
    assert failure.value.status == "FAILED"
    assert failure.value.error == "voice_not_found: no voice 'x'"


async def test_async_runpod_flow_downloads_from_the_worker() -> None:
    output = {"download_url": "http://worker/audio.wav", "confirmation_url": "http://worker/confirm-download/j"}
    seen, transport = recorder(runpod_answer(output, ["IN_PROGRESS", "COMPLETED"]))
    async with AsyncRunPodTTSClient("http://rp", transport=transport) as rp:
        audio, out = await rp.synthesize("Xin chào", job_id="j", poll_interval=0.0)
    assert audio == b"FROM-worker" and out == output
    assert [r.url.path for r in seen][-2:] == ["/audio.wav", "/confirm-download/j"]


def test_tts_input_drops_unset_fields() -> None:
    assert tts_input("a") == {"text": "a"}
    assert tts_input("a", speed=1.0, nfe_step=None, seed=3) == {"text": "a", "speed": 1.0, "seed": 3}
