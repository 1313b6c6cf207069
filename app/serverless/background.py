"""Work that outlives a job's handler call: download-confirmation waiters and
completion webhooks.

It runs on its own event loop in its own thread, not on the SDK's loop: the
SDK (and uvicorn in ``--rp_serve_api`` mode) cancels whatever is left on its
loop when it stops, and a waiter must survive that. ``drain`` is called by
``python -m app.serverless`` after the SDK returns (SIGTERM, end of the
local test server), so the process -- and, through the launcher, the service
the client downloads from -- stays up until every waiter has its confirmation
or its time is up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from app.client.rest import AsyncTTSClient
from app.serverless.config import WorkerSettings

logger = logging.getLogger("app.serverless")

WEBHOOK_SIGNATURE_HEADER = "X-Webhook-Signature"


def sign_body(secret: str, body: bytes) -> str:
    """The service's scheme (app/services/webhooks.py): HMAC-SHA256 of the exact bytes."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class BackgroundWork:
    def __init__(
        self,
        settings: WorkerSettings,
        *,
        transport_factory: Callable[[], httpx.AsyncBaseTransport | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self._transport_factory = transport_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._waiters: dict[str, concurrent.futures.Future[bool]] = {}
        self._service: AsyncTTSClient | None = None
        self._http: httpx.AsyncClient | None = None

    # --- the loop thread ---
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                # Daemon: the explicit drain() decides how long the process
                # waits, not the interpreter's exit.
                self._thread = threading.Thread(target=run, name="worker-background", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def _submit(self, factory: Callable[[], Coroutine[Any, Any, Any]]) -> concurrent.futures.Future[Any]:
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(factory(), loop)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._futures)

    def pending_confirmations(self) -> list[str]:
        with self._lock:
            return [job_id for job_id, fut in self._waiters.items() if not fut.done()]

    def drain(self, timeout: float) -> bool:
        """Wait for everything started so far; True when all of it finished."""
        with self._lock:
            futures = set(self._futures)
        if not futures:
            return True
        waiting = self.pending_confirmations()
        if waiting:
            logger.info(
                "worker.draining: waiting for %d download confirmation(s) (%s), at most %.0f s",
                len(waiting),
                ", ".join(waiting),
                timeout,
            )
        _, not_done = concurrent.futures.wait(futures, timeout=timeout)
        return not not_done

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            for client in (self._service, self._http):
                if client is not None:
                    await client.aclose()

        with contextlib.suppress(Exception):  # closing is best effort
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = None

    # --- clients, created on the background loop ---
    def _service_client(self) -> AsyncTTSClient:
        if self._service is None:
            self._service = AsyncTTSClient(
                self.settings.service_url,
                api_key=self.settings.api_key_value,
                timeout=httpx.Timeout(5.0, connect=2.0),
                transport=self._transport_factory(),
            )
        return self._service

    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(10.0, connect=5.0),
                transport=self._transport_factory(),
                headers={"User-Agent": "f5-tts-vi-worker/1"},
            )
        return self._http

    # --- download confirmation ---
    def watch_confirmation(self, job_id: str, timeout: float | None = None) -> concurrent.futures.Future[bool]:
        """Start (once per job id) waiting for the client's POST to confirmation_url."""
        seconds = self.settings.confirmation_timeout_seconds if timeout is None else timeout
        with self._lock:
            existing = self._waiters.get(job_id)
            if existing is not None and not existing.done():
                return existing
        future = self._submit(lambda: self._await_confirmation(job_id, seconds))
        with self._lock:
            self._waiters[job_id] = future
            # Keep the map small: finished waiters need not be remembered.
            for key in [k for k, f in self._waiters.items() if f.done()]:
                del self._waiters[key]
        return future

    async def _await_confirmation(self, job_id: str, seconds: float) -> bool:
        client = self._service_client()
        deadline = time.monotonic() + seconds
        logger.info("confirmation.waiting job_id=%s timeout=%.0fs", job_id, seconds)
        while True:
            try:
                answer = await client.check_download(job_id)
                if answer.get("confirmed"):
                    logger.info("confirmation.received job_id=%s: download confirmed", job_id)
                    return True
            except Exception as exc:
                logger.debug("confirmation.check_failed job_id=%s: %s", job_id, exc)
            if time.monotonic() >= deadline:
                logger.warning(
                    "confirmation.timeout job_id=%s: download confirmation not received in %.0f s, "
                    "proceeding anyway (old client?)",
                    job_id,
                    seconds,
                )
                return False
            await asyncio.sleep(min(self.settings.confirmation_poll_seconds, max(0.0, deadline - time.monotonic())))

    # --- completion webhook ---
    def send_webhook(self, payload: dict[str, Any]) -> concurrent.futures.Future[bool] | None:
        url = self.settings.webhook_url
        if not url:
            return None
        return self._submit(lambda: self._deliver_webhook(url, payload))

    async def _deliver_webhook(self, url: str, payload: dict[str, Any]) -> bool:
        body = json.dumps({"sent_at": time.time(), **payload}, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Webhook-Event": str(payload.get("event", ""))}
        if self.settings.webhook_secret is not None:
            headers[WEBHOOK_SIGNATURE_HEADER] = sign_body(self.settings.webhook_secret.get_secret_value(), body)
        client = self._http_client()
        delay = 1.0
        job = payload.get("job_id")
        for attempt in range(1, self.settings.webhook_attempts + 1):
            try:
                response = await client.post(url, content=body, headers=headers)
                if response.is_success:
                    logger.info("webhook.delivered job_id=%s attempt=%d", job, attempt)
                    return True
                outcome = f"HTTP {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429):
                    logger.warning("webhook.refused job_id=%s: %s", job, outcome)
                    return False
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            logger.warning("webhook.attempt_failed job_id=%s attempt=%d: %s", job, attempt, outcome)
            if attempt < self.settings.webhook_attempts:
                await asyncio.sleep(delay)
                delay *= 2
        return False
