"""WebhookSender against a real local HTTP receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.metrics import Metrics
from app.models.jobs import JobMode, JobParams, JobRecord, JobStatus
from app.services.job_store import JobStore
from app.services.webhooks import SIGNATURE_HEADER, WebhookSender, sign, verify
from tests.app.webhook_receiver import WebhookReceiver

PARAMS = JobParams(text="x", voice="main", speed=1.0, seed=1, nfe_step=8, cfg_strength=2.0)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def _setup(tmp_path: Path, **settings_values) -> tuple[Settings, JobStore]:
    settings = Settings(_env_file=None, data_dir=tmp_path, webhook_backoff_seconds=0.01, **settings_values)
    store = JobStore(settings.database_path)
    store.insert(JobRecord(id="j", status=JobStatus.queued, mode=JobMode.async_, params=PARAMS, created_at=1.0))
    store.fail("j", code="synthesis_failed", message="x", finished_at=2.0, webhook_pending=True)
    return settings, store


def test_signatures() -> None:
    body = b'{"job_id":"j"}'
    signature = sign("secret", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("secret", body, signature)
    assert not verify("secret", body + b" ", signature) and not verify("other", body, signature)


def test_targets_respect_the_per_request_switch(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, webhook_url="http://a/hook")
    sender = WebhookSender(settings, None, Metrics())  # type: ignore[arg-type]
    assert sender.targets("http://b/mine") == ["http://a/hook"]
    settings.webhook_allow_per_request = True
    assert sender.targets("http://b/mine") == ["http://a/hook", "http://b/mine"]
    assert sender.targets("http://a/hook") == ["http://a/hook"]


async def test_retries_until_accepted(tmp_path: Path, receiver: WebhookReceiver) -> None:
    receiver.fail_first["/hook"] = [500, 429]
    settings, store = _setup(tmp_path, webhook_secret="s3cret", webhook_max_attempts=5)
    sender = WebhookSender(settings, store, Metrics())
    await sender.start()
    sender.send("j", "job.failed", {"job_id": "j", "status": "failed"}, [f"{receiver.url}/hook"])
    await sender.stop(grace_seconds=10)
    deliveries = receiver.to("/hook")
    assert len(deliveries) == 3
    assert all(verify("s3cret", d.body, d.headers[SIGNATURE_HEADER]) for d in deliveries)
    assert deliveries[0].json()["event"] == "job.failed" and deliveries[0].json()["job_id"] == "j"
    assert store.get("j").webhook_state == "delivered"  # type: ignore[union-attr]
    store.close()


async def test_a_refusing_receiver_is_not_retried(tmp_path: Path, receiver: WebhookReceiver) -> None:
    receiver.fail_first["/gone"] = [410, 410, 410]
    settings, store = _setup(tmp_path, webhook_max_attempts=5)
    sender = WebhookSender(settings, store, Metrics())
    await sender.start()
    sender.send("j", "job.failed", {"job_id": "j"}, [f"{receiver.url}/gone"])
    await sender.stop(grace_seconds=10)
    assert len(receiver.to("/gone")) == 1
    assert SIGNATURE_HEADER not in receiver.to("/gone")[0].headers  # no secret, no signature
    assert store.get("j").webhook_state == "failed"  # type: ignore[union-attr]
    store.close()


async def test_an_unreachable_receiver_gives_up_after_the_attempts(tmp_path: Path) -> None:
    settings, store = _setup(tmp_path, webhook_max_attempts=2, webhook_timeout_seconds=1.0)
    metrics = Metrics()
    sender = WebhookSender(settings, store, metrics)
    await sender.start()
    sender.send("j", "job.failed", {"job_id": "j"}, ["http://127.0.0.1:9/closed-port"])
    assert sender.in_flight == 1
    await sender.stop(grace_seconds=10)
    assert store.get("j").webhook_state == "failed"  # type: ignore[union-attr]
    assert metrics.webhook_deliveries.labels("failed")._value.get() == 1
    store.close()


async def test_stop_cancels_deliveries_that_outlive_the_grace(tmp_path: Path, receiver: WebhookReceiver) -> None:
    receiver.fail_first["/slow"] = [500] * 10
    settings, store = _setup(tmp_path, webhook_max_attempts=10)
    settings.webhook_backoff_seconds = 30.0
    sender = WebhookSender(settings, store, Metrics())
    await sender.start()
    sender.send("j", "job.failed", {"job_id": "j"}, [f"{receiver.url}/slow"])
    await asyncio.sleep(0.2)
    await sender.stop(grace_seconds=0.1)
    # Still pending in the store: the next start sends it again.
    assert store.get("j").webhook_state == "pending"  # type: ignore[union-attr]
    store.close()
