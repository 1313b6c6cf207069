"""A real service for the client's integration tests, started the way a RunPod
load-balancing endpoint (or plain Docker) starts it: ``launcher serve`` on $PORT."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.app.serverless.conftest import Running
from tests.app.serverless.procs import API_KEY, free_port, service_env, spawn, wait_until


@pytest.fixture(scope="session")
def rest_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("rest-service")
    port = free_port()
    env = service_env(root, PORT=str(port), SERVICE_HOST="127.0.0.1", WEIGHTS_DIR=str(root / "none"), API_KEY=API_KEY)
    proc = spawn("serve", [sys.executable, "-m", "app.serverless.launcher", "serve", "--demo"], env, root / "logs")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/health", timeout=2).json().get("status") == "ok", proc, 60, "healthy")
        yield Running(proc, url, root)
    finally:
        proc.stop()
