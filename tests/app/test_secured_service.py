"""A server with the optional features on: API key, webhooks, fast retention, a small queue."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.service_process import LONG_TEXT, ServiceProcess, service_env, wait_until
from tests.app.webhook_receiver import WebhookReceiver

API_KEY = "test-key-7f3a"
WEBHOOK_SECRET = "webhook-secret-0c1d"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    # The server-wide hook answers 500 twice before accepting: retries must get through.
    server = WebhookReceiver(fail_first={"/server-hook": [500, 503]}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, receiver: WebhookReceiver) -> Iterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("secured")
    env = service_env(
        root,
        API_KEY=API_KEY,
        WEBHOOK_URL=f"{receiver.url}/server-hook",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_ALLOW_PER_REQUEST="true",
        WEBHOOK_BACKOFF_SECONDS="0.1",
        CONFIRMED_RETENTION_SECONDS="0.5",
        RETENTION_SWEEP_SECONDS="0.2",
        MAX_QUEUE_SIZE="2",
    )
    server = ServiceProcess(root, env).start()
    try:
        yield server
    finally:
        server.stop()


def _wait_completed(client: httpx.Client, job_id: str) -> dict:
    def completed() -> dict | None:
        body = client.get(f"/tts/status/{job_id}").json()
        assert body["status"] not in ("failed", "cancelled"), body
        return body if body["status"] == "completed" else None

    return wait_until(completed, timeout=120, interval=0.1, what=f"job {job_id}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/tts"),
        ("GET", "/status"),
        ("GET", "/voices"),
        ("GET", "/metrics"),
        ("POST", "/cleanup"),
        ("GET", "/tts/status/x"),
        ("GET", "/tts/progress/x"),
        ("POST", "/tts/kill/x"),
        ("DELETE", "/tts/x"),
        ("GET", "/output/x.wav"),
        ("POST", "/confirm-download/x"),
        ("GET", "/check-download/x"),
        ("GET", "/voices/main/audio"),
    ],
)
def test_everything_but_health_and_ping_needs_the_key(secured: ServiceProcess, method: str, path: str) -> None:
    with secured.client() as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}, {"Authorization": API_KEY}):
            response = client.request(method, path, headers=headers, json={"text": "xin chào"})
            assert response.status_code == 401, (headers, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"


def test_health_and_ping_are_open_and_both_key_headers_work(secured: ServiceProcess) -> None:
    with secured.client() as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ping").status_code == 200
        assert client.get("/status", headers=AUTH).status_code == 200
        assert client.get("/status", headers={"X-API-Key": API_KEY}).status_code == 200
        # A request with the key that names no job is a 404, not a 401.
        assert client.get("/tts/status/x", headers={"X-API-Key": API_KEY}).status_code == 404


def _verify(delivery, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, delivery.headers["X-Webhook-Signature"])


def test_completion_webhooks_are_signed_retried_and_sent_per_request(
    secured: ServiceProcess, receiver: WebhookReceiver
) -> None:
    with secured.client(headers=AUTH) as client:
        body = {"text": "thông báo khi xong", "job_id": "hooked", "async": True, "webhook_url": f"{receiver.url}/mine"}
        assert client.post("/tts", json=body).status_code == 200
        _wait_completed(client, "hooked")
        wait_until(lambda: receiver.to("/mine"), timeout=30, what="the per-request webhook")
        wait_until(lambda: len(receiver.to("/server-hook")) >= 3, timeout=30, what="the retried webhook")

    mine = receiver.to("/mine")[0]
    assert _verify(mine, WEBHOOK_SECRET)
    assert not _verify(mine, "another secret")
    payload = mine.json()
    assert payload["event"] == "job.completed" and payload["job_id"] == "hooked"
    assert payload["status"] == "completed" and payload["result"]["download_url"] == "/output/hooked.wav"
    assert mine.headers["X-Webhook-Event"] == "job.completed"

    attempts = receiver.to("/server-hook")
    assert len(attempts) == 3  # 500, 503, then accepted: no more after success
    assert len({attempt.body for attempt in attempts}) == 1  # the same signed body every time
    assert all(_verify(attempt, WEBHOOK_SECRET) for attempt in attempts)


def test_failed_and_cancelled_jobs_are_announced_too(secured: ServiceProcess, receiver: WebhookReceiver) -> None:
    with secured.client(headers=AUTH) as client:
        body = {"text": LONG_TEXT, "job_id": "hooked-cancel", "async": True, "webhook_url": f"{receiver.url}/cancel"}
        assert client.post("/tts", json=body).status_code == 200
        assert client.post("/tts/kill/hooked-cancel").status_code == 200
    delivery = wait_until(lambda: receiver.to("/cancel"), timeout=30, what="the cancellation webhook")[0]
    assert delivery.json()["event"] == "job.cancelled" and _verify(delivery, WEBHOOK_SECRET)


def test_a_confirmed_download_is_removed_after_the_retention_time(secured: ServiceProcess) -> None:
    with secured.client(headers=AUTH) as client:
        response = client.post("/tts", json={"text": "tải xong thì xoá", "job_id": "retained"})
        assert response.status_code == 200
        output = secured.output_dir / "retained.wav"
        assert output.is_file()
        assert client.post("/confirm-download/retained").json()["confirmed"] is True
        wait_until(lambda: not output.exists(), timeout=30, what="retention to remove the file")
        gone = client.get("/output/retained.wav")
        assert gone.status_code == 410 and gone.json()["error"]["code"] == "output_expired"
        status = client.get("/tts/status/retained").json()
        assert status["status"] == "completed" and status["download_confirmed"] is True


def test_a_full_queue_answers_429_with_retry_after(secured: ServiceProcess) -> None:
    with secured.client(headers=AUTH) as client:
        for job_id in ("busy-1", "busy-2"):
            body = {"text": LONG_TEXT, "job_id": job_id, "async": True, "nfe_step": 32}
            assert client.post("/tts", json=body).status_code == 200
        refused = client.post("/tts", json={"text": "không còn chỗ", "async": True})
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "queue_full"
        assert int(refused.headers["retry-after"]) >= 1
        # A duplicate of an accepted job is still answered: it adds nothing to the queue.
        assert client.post("/tts", json={"text": "x", "job_id": "busy-1", "async": True}).json()["duplicate"]
        for job_id in ("busy-1", "busy-2"):
            client.post(f"/tts/kill/{job_id}")
        assert client.post("/tts", json={"text": "lại có chỗ rồi"}).status_code == 200


def test_the_secured_server_logged_no_tracebacks(secured: ServiceProcess, tmp_path: Path) -> None:
    assert "Traceback" not in secured.log_text()
