"""The confirmation waiter and the completion webhook, on their own loop thread."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest

from app.serverless.background import WEBHOOK_SIGNATURE_HEADER, BackgroundWork, sign_body
from app.serverless.config import WorkerSettings
from tests.app.serverless.fakes import FakeService


def settings(**overrides: Any) -> WorkerSettings:
    values: dict[str, Any] = {
        "service_url": "http://tts.internal:8000",
        "confirmation_timeout_seconds": 5.0,
        "confirmation_poll_seconds": 0.02,
    }
    values.update(overrides)
    return WorkerSettings(**values)


def test_waiter_ends_when_the_client_confirms(caplog: pytest.LogCaptureFixture) -> None:
    service = FakeService(confirm_after_checks=3)
    work = BackgroundWork(settings(), transport_factory=service.transport)
    caplog.set_level(logging.INFO, logger="app.serverless")
    try:
        future = work.watch_confirmation("job-1")
        assert work.pending_confirmations() == ["job-1"] or future.done()
        assert future.result(timeout=5) is True
        assert service.checks == 3
        assert all(p == "/check-download/job-1" for p in service.paths())
        assert work.drain(1.0) is True
        assert "download confirmed" in caplog.text
    finally:
        work.close()


def test_waiter_gives_up_after_the_timeout_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    service = FakeService(confirm_after_checks=None)
    work = BackgroundWork(settings(confirmation_timeout_seconds=0.3), transport_factory=service.transport)
    caplog.set_level(logging.INFO, logger="app.serverless")
    try:
        start = time.monotonic()
        assert work.watch_confirmation("job-2").result(timeout=5) is False
        assert 0.25 <= time.monotonic() - start < 2.0
        assert "download confirmation not received" in caplog.text
        assert any(r.levelno == logging.WARNING for r in caplog.records)
    finally:
        work.close()


def test_one_waiter_per_job_and_drain_waits_for_all() -> None:
    service = FakeService(confirm_after_checks=None)
    work = BackgroundWork(settings(confirmation_timeout_seconds=0.4), transport_factory=service.transport)
    try:
        first = work.watch_confirmation("a")
        assert work.watch_confirmation("a") is first
        work.watch_confirmation("b")
        assert sorted(work.pending_confirmations()) == ["a", "b"]
        assert work.drain(0.05) is False  # still waiting
        assert work.drain(3.0) is True
        assert work.pending == 0
    finally:
        work.close()


def test_waiter_survives_an_unreachable_service() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    work = BackgroundWork(
        settings(confirmation_timeout_seconds=0.2), transport_factory=lambda: httpx.MockTransport(refuse)
    )
    try:
        assert work.watch_confirmation("gone").result(timeout=5) is False
    finally:
        work.close()


def test_webhook_is_signed_and_retried() -> None:
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(503 if len(received) == 1 else 200)

    work = BackgroundWork(
        settings(webhook_url="http://127.0.0.1:3000/api/runpod-webhook", webhook_secret="s3cret", webhook_attempts=3),
        transport_factory=lambda: httpx.MockTransport(receiver),
    )
    try:
        future = work.send_webhook({"event": "tts.completed", "id": "rp-1", "job_id": "j", "status": "COMPLETED"})
        assert future is not None
        assert future.result(timeout=10) is True
        assert len(received) == 2
        last = received[-1]
        assert str(last.url) == "http://127.0.0.1:3000/api/runpod-webhook"
        assert last.headers[WEBHOOK_SIGNATURE_HEADER] == sign_body("s3cret", last.content)
        body = json.loads(last.content)
        assert body["event"] == "tts.completed" and body["id"] == "rp-1" and "sent_at" in body
    finally:
        work.close()


def test_webhook_refused_with_4xx_is_not_retried() -> None:
    calls: list[int] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400)

    work = BackgroundWork(
        settings(webhook_url="http://127.0.0.1:3000/hook"), transport_factory=lambda: httpx.MockTransport(receiver)
    )
    try:
        assert work.send_webhook({"event": "tts.failed"}).result(timeout=5) is False  # type: ignore[union-attr]
        assert calls == [1]
    finally:
        work.close()


def test_no_webhook_without_a_url() -> None:
    work = BackgroundWork(settings())
    assert work.send_webhook({"event": "tts.completed"}) is None
    assert work.drain(0.1) is True
    work.close()
