"""The app's lifespan in-process: serving while the model loads, job timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from app.core.config import Settings
from app.main import create_app
from tests.app.service_process import LONG_TEXT, SHIPPED_VOICES


@asynccontextmanager
async def running_app(tmp_path: Path, **settings_values) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,
        demo=True,
        voices_dir=SHIPPED_VOICES,
        output_dir=tmp_path / "outputs",
        data_dir=tmp_path / "data",
        default_nfe_step=4,
        exit_on_load_failure=False,
        log_format="text",
        **settings_values,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service", timeout=120) as client:
            yield client


async def _poll(client: httpx.AsyncClient, job_id: str, statuses: set[str], timeout: float = 60) -> dict:
    for _ in range(int(timeout / 0.05)):
        body = (await client.get(f"/tts/status/{job_id}")).json()
        if body["status"] in statuses:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}")


async def test_requests_are_accepted_while_the_model_loads(tmp_path: Path) -> None:
    async with running_app(tmp_path) as client:
        ping = await client.get("/ping")
        health = await client.get("/health")
        assert ping.status_code == 204 and ping.content == b""
        assert health.status_code == 503 and health.json()["status"] == "loading"
        accepted = await client.post("/tts", json={"text": "xin chào", "async": True, "job_id": "early"})
        assert accepted.status_code == 200 and accepted.json()["status"] == "queued"
        progress = (await client.get("/tts/progress/early")).json()
        assert progress["message"] == "waiting for the model to load"

        assert (await _poll(client, "early", {"completed", "failed"}))["status"] == "completed"
        assert (await client.get("/ping")).json() == {"status": "healthy"}
        assert (await client.get("/health")).json()["status"] == "ok"


async def test_a_job_running_past_its_timeout_fails_and_its_caller_hears_504(tmp_path: Path) -> None:
    async with running_app(tmp_path, job_timeout_seconds=0.4) as client:
        for _ in range(600):
            if (await client.get("/ping")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        body = {"text": LONG_TEXT, "job_id": "slow", "nfe_step": 128}
        response = await client.post("/tts", json=body)
        assert response.status_code == 504, response.text
        assert response.json()["error"]["code"] == "job_timeout"
        status = (await client.get("/tts/status/slow")).json()
        assert status["status"] == "failed" and status["error"]["code"] == "job_timeout"
        # The server goes on serving, and the timed-out job stays failed.
        assert (await client.get("/health")).json()["stats"]["failed_requests"] == 1
        assert (await client.post("/tts/kill/slow")).status_code == 409
