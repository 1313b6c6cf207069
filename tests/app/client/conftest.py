"""A real service (demo model, API key on) for the client's integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.serverless.conftest import Running
from tests.app.serverless.procs import API_KEY, start_service


@pytest.fixture(scope="session")
def rest_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("rest-service")
    proc, url = start_service(root, API_KEY=API_KEY)
    try:
        yield Running(proc, url, root)
    finally:
        proc.stop()
