"""Shared real processes: one service (demo model, API key on) and one worker
(SDK local test server) for the whole session; tests use distinct job ids."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app.serverless.procs import API_KEY, Proc, start_service, start_worker


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


@pytest.fixture(scope="session")
def worker(service: Running, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("worker")
    proc, url = start_worker(root, service.url, API_KEY=API_KEY)
    try:
        yield Running(proc, url, root)
    finally:
        proc.stop()
