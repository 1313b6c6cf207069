"""Completion webhooks: a signed POST to the server's ``WEBHOOK_URL`` (and, when
allowed, the request's own ``webhook_url``) when a job ends.

Deliveries run as their own tasks, so a slow or dead receiver never holds up
the queue. Each is retried with exponential backoff on network errors, 5xx,
408 and 429; other 4xx answers are final. The body is signed with
HMAC-SHA256 over the exact bytes sent:
``X-Webhook-Signature: sha256=<hex>`` (see docs/service.md for verification).
A job's delivery state is kept in the job store, so deliveries pending when
the process stopped are sent again at the next start.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx

from app.core.config import Settings
from app.core.metrics import Metrics
from app.services.job_store import JobStore

logger = logging.getLogger("app.webhooks")

SIGNATURE_HEADER = "X-Webhook-Signature"
_RETRYABLE_STATUS = {408, 425, 429}
_MAX_BACKOFF_SECONDS = 300.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does (kept here for the tests and the docs example)."""
    return hmac.compare_digest(sign(secret, body), signature)


class WebhookSender:
    def __init__(
        self, settings: Settings, store: JobStore, metrics: Metrics, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self._client = client
        self._owns_client = client is None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.webhook_timeout_seconds,
                follow_redirects=False,
                headers={"User-Agent": "f5-tts-vi-webhook/1"},
            )

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Give running deliveries a moment, then cancel; unfinished ones stay pending in the store."""
        if self._tasks:
            _, still_running = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def targets(self, per_request_url: str | None) -> list[str]:
        urls = [self.settings.webhook_url] if self.settings.webhook_url else []
        if per_request_url and self.settings.webhook_allow_per_request and per_request_url not in urls:
            urls.append(per_request_url)
        return urls

    def send(self, job_id: str, event: str, payload: dict[str, Any], urls: list[str]) -> None:
        """Start delivering (returns at once). The job's state must already be 'pending' in the store."""
        if not urls:
            return
        task = asyncio.get_running_loop().create_task(self._deliver_all(job_id, event, payload, urls))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_all(self, job_id: str, event: str, payload: dict[str, Any], urls: list[str]) -> None:
        body = json.dumps(
            {"event": event, "sent_at": time.time(), **payload}, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        results = await asyncio.gather(*(self._deliver(job_id, event, url, body) for url in urls))
        state = "delivered" if all(results) else "failed"
        self.store.set_webhook_state(job_id, state)

    async def _deliver(self, job_id: str, event: str, url: str, body: bytes) -> bool:
        assert self._client is not None, "WebhookSender.start() was not called"
        headers = {"Content-Type": "application/json", "X-Webhook-Event": event, "X-Webhook-Job-Id": job_id}
        if self.settings.webhook_secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.settings.webhook_secret.get_secret_value(), body)
        delay = self.settings.webhook_backoff_seconds
        attempts = self.settings.webhook_max_attempts
        for attempt in range(1, attempts + 1):
            outcome = "network_error"
            try:
                response = await self._client.post(url, content=body, headers=headers)
                if response.is_success:
                    self.metrics.webhook_deliveries.labels("delivered").inc()
                    logger.info("webhook.delivered", extra={"job_id": job_id, "url": url, "attempt": attempt})
                    return True
                outcome = f"http_{response.status_code}"
                if response.status_code < 500 and response.status_code not in _RETRYABLE_STATUS:
                    break  # the receiver refuses this delivery: retrying will not help
            except httpx.HTTPError as exc:
                outcome = f"network_error: {type(exc).__name__}"
            self.metrics.webhook_deliveries.labels("retry" if attempt < attempts else "failed").inc()
            logger.warning(
                "webhook.attempt_failed",
                extra={"job_id": job_id, "url": url, "attempt": attempt, "outcome": outcome},
            )
            if attempt < attempts:
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_SECONDS)
        else:
            return False
        self.metrics.webhook_deliveries.labels("failed").inc()
        return False
