"""One demo server for the voice library tests: API key on, a fake transcriber
injected through TRANSCRIBER_FACTORY, a small upload limit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.app.service_process import ServiceProcess, service_env
from tests.app.voices.fake_transcriber import FakeControl

API_KEY = "voices-test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
UPLOAD_LIMIT = 700_000  # bytes: a 31 s clip at 8 kHz (496 kB) is under it, so "too long" is about seconds


@pytest.fixture(scope="session")
def fake_control(tmp_path_factory: pytest.TempPathFactory) -> FakeControl:
    return FakeControl(tmp_path_factory.mktemp("fake-transcriber"))


@pytest.fixture(scope="session")
def voices_server(tmp_path_factory: pytest.TempPathFactory, fake_control: FakeControl) -> Iterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("voices-service")
    env = service_env(
        root,
        API_KEY=API_KEY,
        AUTO_TRANSCRIBE="true",
        TRANSCRIBER_FACTORY="tests.app.voices.fake_transcriber:make",
        FAKE_TRANSCRIBER_DIR=str(fake_control.folder),
        VOICE_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT),
    )
    server = ServiceProcess(root, env).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(voices_server: ServiceProcess, fake_control: FakeControl) -> Iterator[httpx.Client]:
    fake_control.set_mode("ok")
    with voices_server.client(headers=AUTH) as http:
        yield http
    fake_control.set_mode("ok")


def upload(
    client: httpx.Client,
    name: str,
    audio: bytes,
    transcript: str | None = None,
    *,
    filename: str = "clip.wav",
    overwrite: bool | None = None,
) -> httpx.Response:
    data = {"name": name}
    if transcript is not None:
        data["transcript"] = transcript
    if overwrite is not None:
        data["overwrite"] = "true" if overwrite else "false"
    return client.post("/voices", data=data, files={"audio": (filename, audio, "application/octet-stream")})


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]
