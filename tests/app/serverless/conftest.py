"""Shared real processes: one service (demo model, API key on) and one worker
(SDK local test server) for the whole session; tests use distinct job ids."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.app.serverless.procs import API_KEY, Proc, start_service, start_worker

WEBHOOK_SECRET = "webhook-test-secret"


@dataclass
class Running:
    proc: Proc
    url: str
    root: Path


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("service")
    proc, url = start_service(root, API_KEY=API_KEY)
    try:
        yield Running(proc, url, root)
    finally:
        proc.stop()


@dataclass
class WebhookReceiver:
    """A real HTTP server on loopback that records the POSTs it gets (the frontend's role)."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, job_id: str, timeout: float = 10.0) -> tuple[dict[str, str], dict[str, Any]]:
        def find() -> tuple[dict[str, str], dict[str, Any]] | None:
            for headers, body in self.received:
                payload = json.loads(body)
                if payload.get("job_id") == job_id:
                    return headers, payload
            return None

        with self.arrived:
            self.arrived.wait_for(lambda: find() is not None, timeout=timeout)
        found = find()
        assert found is not None, f"no webhook for {job_id}"
        return found


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    holder: list[WebhookReceiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver = holder[0]
            with receiver.arrived:
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}/api/runpod-webhook"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def worker(
    service: Running, webhook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("worker")
    proc, url = start_worker(
        root,
        service.url,
        API_KEY=API_KEY,
        NEXTJS_WEBHOOK_URL=webhook_receiver.url,
        WORKER_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    try:
        yield Running(proc, url, root)
    finally:
        proc.stop()
