"""Fixtures of the service tests: the shared demo server and small helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.service_process import ServiceProcess, service_env


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One demo server shared by the API tests (default settings, small ODE step count)."""
    root = tmp_path_factory.mktemp("service")
    server = ServiceProcess(root, service_env(root)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path
