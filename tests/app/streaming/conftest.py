"""One demo server for the streaming tests (HTTP and WebSocket): API key on,
small batches (2 chunks) so a long text spans several forward passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.service_process import ServiceProcess, service_env

API_KEY = "stream-key-51c2"
AUTH = {"X-API-Key": API_KEY}

# A couple of seconds of speech: one or two chunks.
MEDIUM_TEXT = "xin chào các bạn, hôm nay trời rất đẹp. chúng ta cùng nhau đi dạo quanh hồ gươm nhé."


@pytest.fixture(scope="package")
def streaming_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("streaming")
    server = ServiceProcess(root, service_env(root, API_KEY=API_KEY, MAX_BATCH_ITEMS="2")).start()
    try:
        yield server
    finally:
        server.stop()
