"""The handler inside the RunPod SDK's own job loop (JobScaler, as on a deployed
worker): ``concurrency_modifier`` sizes the job fetches, and a stop signal from
RunPod (a cancelled job) cancels the handler's task, which kills the service job.
The SDK's job-take and stop endpoints are replaced through its local-test hooks;
the service is the in-memory double."""

from __future__ import annotations

import asyncio
from typing import Any

from runpod.serverless.modules import rp_scale
from runpod.serverless.modules.rp_job import run_job

from tests.app.serverless.fakes import FakeService
from tests.app.serverless.test_handler import make_handler


async def test_job_scaler_takes_several_jobs_and_stops_a_cancelled_one() -> None:
    service = FakeService(polls=5)
    handler, background = make_handler(service, concurrency=3)
    queue: list[dict[str, Any]] = [
        {"id": "rp-1", "input": {"text": "Một"}},
        {"id": "rp-2", "input": {"text": "Hai"}},
        {"id": "rp-stop", "input": {"text": "LONG: cancelled by RunPod"}},
        {"id": "rp-4", "input": {"text": "Bốn"}},
    ]
    asked: list[int] = []
    results: dict[str, dict[str, Any]] = {}
    stopped: list[str] = []

    async def take_jobs(session: Any, wanted: int) -> list[dict[str, Any]] | None:
        asked.append(wanted)
        taken, queue[:] = queue[:wanted], queue[wanted:]
        if not taken:
            await asyncio.sleep(0.05)
        return taken or None

    async def handle_job(session: Any, config: dict[str, Any], job: dict[str, Any]) -> None:
        results[job["id"]] = await run_job(config["handler"], job)

    async def stop_signals(session: Any) -> list[str]:
        await asyncio.sleep(0.02)
        job = service.jobs.get("rp-stop")
        if job is not None and job.status == "processing" and not stopped:
            stopped.append("rp-stop")
            return ["rp-stop"]
        return []

    scaler = rp_scale.JobScaler(
        {
            "handler": handler.handle,
            "concurrency_modifier": handler.concurrency_modifier,
            "jobs_fetcher": take_jobs,
            "jobs_fetcher_timeout": 2,
            "jobs_handler": handle_job,
            "stop_signals_fetcher": stop_signals,
            "stop_signals_fetcher_timeout": 2,
        }
    )
    loop_task = asyncio.create_task(scaler.run())
    for _ in range(400):
        if len(results) == 3 and service.kills:
            break
        await asyncio.sleep(0.02)
    scaler.kill_worker()
    await asyncio.wait_for(loop_task, timeout=10)

    assert asked[0] == 3  # WORKER_CONCURRENCY jobs asked for at once
    assert sorted(results) == ["rp-1", "rp-2", "rp-4"]
    assert all("error" not in r and r["output"]["job_id"] == k for k, r in results.items())
    assert service.kills == ["rp-stop"]
    assert "rp-stop" not in results
    assert sorted(background.confirmations) == ["rp-1", "rp-2", "rp-4"]
