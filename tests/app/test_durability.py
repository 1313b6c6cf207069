"""Nothing is lost when the process dies: jobs live in SQLite and are queued
again at the next start; finished audio stays downloadable."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import httpx

from tests.app.service_process import LONG_TEXT, ServiceProcess, service_env, wait_until


def _statuses(client: httpx.Client, job_ids: list[str]) -> dict[str, str]:
    return {job_id: client.get(f"/tts/status/{job_id}").json()["status"] for job_id in job_ids}


def _all_completed(client: httpx.Client, job_ids: list[str]) -> bool:
    statuses = _statuses(client, job_ids)
    assert "failed" not in statuses.values() and "cancelled" not in statuses.values(), statuses
    return all(status == "completed" for status in statuses.values())


def _db_statuses(data_dir: Path) -> dict[str, str]:
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        return dict(db.execute("SELECT id, status FROM jobs").fetchall())


def test_kill_9_with_jobs_queued_then_restart_completes_them_all(tmp_path: Path) -> None:
    server = ServiceProcess(tmp_path, service_env(tmp_path)).start()
    try:
        with server.client() as client:
            done = client.post("/tts", json={"text": "đã xong trước khi chết", "job_id": "before-crash"})
            assert done.status_code == 200
            # Three jobs share the running batch; three with another ODE step
            # count cannot join it and wait in the queue.
            job_ids = [f"crash-{i}" for i in range(6)]
            for i, job_id in enumerate(job_ids):
                text = f"câu số {i}: " + LONG_TEXT[:80]
                body = {"text": text, "job_id": job_id, "async": True, "nfe_step": 32 if i < 3 else 8}
                assert client.post("/tts", json=body).status_code == 200
            wait_until(
                lambda: client.get("/tts/progress/crash-0").json()["step"] > 0, timeout=60, what="the first batch"
            )
            assert client.get("/tts/status/crash-5").json()["status"] == "queued"
        server.kill_hard()
        unfinished = {k: v for k, v in _db_statuses(server.data_dir).items() if k.startswith("crash-")}
        assert set(unfinished.values()) == {"queued", "processing"}, unfinished

        server.start()
        with server.client() as client:
            wait_until(lambda: _all_completed(client, job_ids), timeout=180, interval=0.2, what="recovered jobs")
            for job_id in [*job_ids, "before-crash"]:
                response = client.get(f"/output/{job_id}.wav")
                assert response.status_code == 200 and response.content[:4] == b"RIFF"
            assert client.get("/tts/status/before-crash").json()["status"] == "completed"
        assert "jobs.recovered" in server.log_text()
    finally:
        server.stop()


def test_sigterm_finishes_the_running_batch_and_keeps_the_queue(tmp_path: Path) -> None:
    env = service_env(tmp_path, MAX_BATCH_ITEMS="2")
    server = ServiceProcess(tmp_path, env).start()
    try:
        job_ids = [f"term-{i}" for i in range(5)]
        with server.client() as client:
            for job_id in job_ids:
                body = {"text": f"{job_id}: " + LONG_TEXT[:150], "job_id": job_id, "async": True, "nfe_step": 16}
                assert client.post("/tts", json=body).status_code == 200
            wait_until(
                lambda: client.get("/tts/progress/term-0").json()["step"] > 0, timeout=60, what="the first batch"
            )
        exit_code = server.stop(signal.SIGTERM, timeout=60)
        # uvicorn re-raises the signal after a graceful shutdown.
        assert exit_code in (0, -signal.SIGTERM), server.log_tail()
        log = server.log_text()
        assert "service.stopped" in log and "Traceback" not in log
        statuses = _db_statuses(server.data_dir)
        assert set(statuses.values()) <= {"queued", "completed"}, statuses  # nothing left "processing"
        assert "queued" in statuses.values()

        server.start()
        with server.client() as client:
            wait_until(lambda: _all_completed(client, job_ids), timeout=180, interval=0.2, what="queued jobs")
    finally:
        server.stop()
