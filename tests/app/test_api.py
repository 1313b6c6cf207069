"""The seed contract's flows against a real server process (demo model)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx

from tests.app.service_process import LONG_TEXT, ServiceProcess, read_wav, wait_until


def _wait_finished(client: httpx.Client, job_id: str, timeout: float = 120.0) -> dict:
    def finished() -> dict | None:
        body = client.get(f"/tts/status/{job_id}").json()
        return body if body["status"] in ("completed", "failed", "cancelled") else None

    return wait_until(finished, timeout=timeout, interval=0.1, what=f"job {job_id} to finish")


def _job_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def test_health_has_the_seed_shape(service: ServiceProcess) -> None:
    with service.client() as client:
        body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["model"].startswith("F5-TTS Vietnamese")
    assert body["message"]
    assert set(body["stats"]) >= {
        "total_requests",
        "completed_requests",
        "failed_requests",
        "queue_size",
        "processing",
    }


def test_ping_is_ready_and_status_reports_model_queue_and_batching(service: ServiceProcess) -> None:
    with service.client() as client:
        ping = client.get("/ping")
        status = client.get("/status").json()
    assert ping.status_code == 200 and ping.json() == {"status": "healthy"}
    assert status["status"] == "ready"
    assert status["model"]["demo"] is True and status["model"]["sample_rate"] == 24000
    assert status["device"]["device"] == "cpu" and status["device"]["gpu"] is None
    assert status["queue"]["max_queue_size"] == 1000
    assert status["batching"]["max_batch_items"] == 16
    assert status["uptime_seconds"] > 0 and status["version"]


def test_voices_lists_the_shipped_samples(service: ServiceProcess) -> None:
    with service.client() as client:
        body = client.get("/voices").json()
    by_name = {voice["name"]: voice for voice in body["voices"]}
    assert body["default"] == "main"
    assert "main.wav" in body["samples"] and body["count"] == len(body["voices"])
    assert by_name["main"]["has_transcript"] and by_name["main"]["transcript"].startswith("xin chào")
    assert 3.0 <= by_name["main"]["duration"] <= 8.0 and by_name["main"]["sample_rate"] == 24000
    assert by_name["giong_nam"]["has_transcript"]
    assert by_name["no_transcript"]["has_transcript"] is False


def test_voice_audio_can_be_previewed(service: ServiceProcess) -> None:
    with service.client() as client:
        response = client.get("/voices/main.wav/audio")
    assert response.status_code == 200
    assert response.content == (service.voices_dir / "main.wav").read_bytes()


def test_sync_tts_answers_a_wav_and_records_the_job(service: ServiceProcess, scratch: Path) -> None:
    with service.client() as client:
        response = client.post("/tts", json={"text": "Xin chào, đây là test", "speed": 0.75})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "audio/wav"
        audio, sample_rate = read_wav(response.content, scratch)
        assert sample_rate == 24000 and audio.ndim == 1 and len(audio) > 2400
        job_id = response.headers["x-job-id"]
        assert float(response.headers["x-audio-duration"]) == round(len(audio) / 24000, 3)

        status = client.get(f"/tts/status/{job_id}").json()
        assert status["status"] == "completed" and status["mode"] == "sync"
        assert status["request_id"] == job_id
        result = status["result"]
        assert result["sample_rate"] == 24000 and result["filename"] == f"{job_id}.wav"
        assert result["output_path"].endswith(f"{job_id}.wav")
        assert abs(result["duration"] - len(audio) / 24000) < 0.01
        assert result["processing_time"] > 0

        progress = client.get(f"/tts/progress/{job_id}").json()
        assert progress["progress"] == 100.0 and progress["status"] == "completed"
        assert client.get(f"/output/{job_id}.wav").content == response.content


def test_every_form_of_ref_name_reaches_the_same_voice(service: ServiceProcess) -> None:
    with service.client() as client:
        for ref_name in ("main", "main.wav", "sample/main.wav", "giong_nam"):
            response = client.post("/tts", json={"text": "một hai ba", "ref_name": ref_name, "seed": 3})
            assert response.status_code == 200, (ref_name, response.text)


def test_same_seed_gives_the_same_audio(service: ServiceProcess) -> None:
    with service.client() as client:
        request = {"text": "xin chào việt nam", "seed": 1234}
        first = client.post("/tts", json=request)
        second = client.post("/tts", json=request)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-job-id"] != second.headers["x-job-id"]
    assert first.content == second.content


def test_async_flow_status_download_range_and_confirmation(service: ServiceProcess) -> None:
    job_id = _job_id()
    with service.client() as client:
        accepted = client.post(
            "/tts", json={"text": "Xin chào thế giới", "ref_name": "main.wav", "job_id": job_id, "async": True}
        )
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert body["request_id"] == body["job_id"] == job_id
        assert body["status"] == "queued" and body["duplicate"] is False
        assert isinstance(body["queue_position"], int) and body["queue_position"] >= 0
        assert body["download_url"] == f"/output/{job_id}.wav"

        assert _wait_finished(client, job_id)["status"] == "completed"
        assert client.get(f"/check-download/{job_id}").json() == {
            "confirmed": False,
            "timestamp": None,
            "job_id": job_id,
        }
        whole = client.get(f"/output/{job_id}.wav").content
        part = client.get(f"/output/{job_id}.wav", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 0-99/{len(whole)}"
        assert part.content == whole[:100]
        assert client.head(f"/output/{job_id}.wav").headers["content-length"] == str(len(whole))

        confirmed = client.post(f"/confirm-download/{job_id}").json()
        assert confirmed["confirmed"] is True and confirmed["job_id"] == job_id
        check = client.get(f"/check-download/{job_id}").json()
        assert check["confirmed"] is True and check["timestamp"].startswith(confirmed["timestamp"][:19])
        assert client.get(f"/tts/status/{job_id}").json()["download_confirmed"] is True


def test_a_job_id_is_never_synthesized_twice(service: ServiceProcess) -> None:
    job_id = _job_id()
    request = {"text": "chỉ một lần thôi", "job_id": job_id, "async": True}
    with service.client() as client:
        total_before = client.get("/health").json()["stats"]["total_requests"]
        first = client.post("/tts", json=request).json()
        second = client.post("/tts", json=request).json()
        assert first["duplicate"] is False and second["duplicate"] is True
        assert second["job_id"] == job_id
        assert _wait_finished(client, job_id)["status"] == "completed"
        output = service.output_dir / f"{job_id}.wav"
        written = output.stat().st_mtime_ns

        # A sync resubmission of the finished job answers its audio, marked duplicate.
        again = client.post("/tts", json={**request, "async": False, "text": "a different text"})
        assert again.status_code == 200 and again.headers["x-duplicate"] == "true"
        assert again.content == output.read_bytes()
        late = client.post("/tts", json=request).json()
        assert late["duplicate"] is True and late["status"] == "completed" and late["queue_position"] is None

        assert output.stat().st_mtime_ns == written
        assert client.get("/health").json()["stats"]["total_requests"] == total_before + 1
        assert _duplicates(client) >= 3


def _duplicates(client: httpx.Client) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("tts_jobs_duplicate_total"):
            return float(line.split()[-1])
    return 0.0


async def _post_all(service: ServiceProcess, bodies: list[dict]) -> list[httpx.Response]:
    async with service.async_client() as client:
        return await asyncio.gather(*(client.post("/tts", json=body) for body in bodies))


def test_ten_simultaneous_sync_requests_all_succeed_and_share_forward_passes(
    service: ServiceProcess, scratch: Path
) -> None:
    with service.client() as client:
        batches_before = client.get("/status").json()["batching"]["batches_run"]
    bodies = [{"text": f"đây là câu thử nghiệm số {i}", "seed": i} for i in range(10)]
    responses = asyncio.run(_post_all(service, bodies))
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses if r.status_code != 200]
    assert len({r.headers["x-job-id"] for r in responses}) == 10
    for response in responses:
        audio, sample_rate = read_wav(response.content, scratch)
        assert sample_rate == 24000 and len(audio) > 0
    with service.client() as client:
        batching = client.get("/status").json()["batching"]
    # Ten requests that arrive together must not cost ten forward passes.
    assert batching["batches_run"] - batches_before < 10
    assert batching["max_batch_size_seen"] >= 2


def test_ten_simultaneous_async_requests_all_complete(service: ServiceProcess) -> None:
    bodies = [{"text": f"yêu cầu bất đồng bộ số {i}", "async": True, "job_id": _job_id()} for i in range(10)]
    responses = asyncio.run(_post_all(service, bodies))
    assert all(r.status_code == 200 for r in responses)
    with service.client() as client:
        for body in bodies:
            status = _wait_finished(client, body["job_id"])
            assert status["status"] == "completed", status
            assert (service.output_dir / f"{body['job_id']}.wav").is_file()


def _start_long_job(client: httpx.Client, job_id: str, nfe_step: int = 32) -> None:
    response = client.post(
        "/tts", json={"text": LONG_TEXT, "job_id": job_id, "async": True, "nfe_step": nfe_step, "seed": 5}
    )
    assert response.status_code == 200, response.text

    def stepping() -> bool:
        progress = client.get(f"/tts/progress/{job_id}").json()
        return progress["status"] == "processing" and progress["step"] > 0

    wait_until(stepping, timeout=60, interval=0.02, what="the long job to be integrating")


def test_health_and_progress_answer_quickly_while_a_batch_runs(service: ServiceProcess) -> None:
    job_id = _job_id()
    with service.client() as client:
        _start_long_job(client, job_id)
        latencies = []
        percents = []
        for _ in range(10):
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            latencies.append(time.perf_counter() - started)
            progress = client.get(f"/tts/progress/{job_id}").json()
            percents.append(progress["progress"])
            time.sleep(0.05)
        assert client.get("/health").json()["stats"]["processing"] is True
        progress = client.get(f"/tts/progress/{job_id}").json()
        assert progress["total_steps"] == 32 and progress["chunks_total"] >= 2
        assert progress["queue_position"] == 0 and progress["elapsed_seconds"] > 0
        client.post(f"/tts/kill/{job_id}")
    # The event loop never runs model code: answers take milliseconds, not a forward pass.
    assert max(latencies) < 0.5, latencies
    assert percents == sorted(percents) and 0 <= percents[0] < 100


def test_cancelling_a_running_job_leaves_the_others_to_finish(service: ServiceProcess) -> None:
    long_id, short_ids = _job_id(), [_job_id() for _ in range(3)]
    with service.client() as client:
        _start_long_job(client, long_id)
        for short_id in short_ids:
            client.post("/tts", json={"text": "câu ngắn", "job_id": short_id, "async": True, "nfe_step": 32})
        killed = client.post(f"/tts/kill/{long_id}")
        assert killed.status_code == 200, killed.text
        assert killed.json() == {
            "job_id": long_id,
            "status": "cancelled",
            "cancelled": True,
            "message": "job cancelled",
        }
        for short_id in short_ids:
            assert _wait_finished(client, short_id)["status"] == "completed"
        status = client.get(f"/tts/status/{long_id}").json()
        assert status["status"] == "cancelled" and status["result"] is None
        assert status["error"]["code"] == "job_cancelled"
        assert not (service.output_dir / f"{long_id}.wav").exists()
        assert client.get(f"/output/{long_id}.wav").status_code == 404
        # Killing again is harmless; DELETE is the same operation.
        assert client.delete(f"/tts/{long_id}").json()["message"] == "job was already cancelled"
        # A finished job cannot be cancelled.
        refused = client.post(f"/tts/kill/{short_ids[0]}")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "job_state_conflict"


def test_a_sync_caller_learns_that_its_job_was_cancelled(service: ServiceProcess) -> None:
    job_id = _job_id()

    async def scenario() -> httpx.Response:
        async with service.async_client() as client:
            waiting = asyncio.create_task(
                client.post("/tts", json={"text": LONG_TEXT, "job_id": job_id, "nfe_step": 32})
            )
            for _ in range(600):
                response = await client.get(f"/tts/progress/{job_id}")
                if response.status_code == 200 and response.json()["status"] == "processing":
                    break
                await asyncio.sleep(0.02)
            await client.delete(f"/tts/{job_id}")
            return await waiting

    response = asyncio.run(scenario())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_cancelled"


def test_a_queued_job_can_be_cancelled_before_it_starts(service: ServiceProcess) -> None:
    long_id, queued_id = _job_id(), _job_id()
    with service.client() as client:
        # A long batch (all chunks of the long job, 64 steps) is running...
        _start_long_job(client, long_id, nfe_step=64)
        # ...and a job with another ODE step count cannot join it, so it waits.
        client.post("/tts", json={"text": "chờ đợi", "job_id": queued_id, "async": True, "nfe_step": 7})
        queued = client.get(f"/tts/progress/{queued_id}").json()
        assert queued["status"] == "queued" and queued["queue_position"] >= 1, queued
        assert client.post(f"/tts/kill/{queued_id}").json()["status"] == "cancelled"
        client.post(f"/tts/kill/{long_id}")
        assert client.get(f"/tts/status/{queued_id}").json()["status"] == "cancelled"


def test_cleanup_releases_memory_and_sweeps(service: ServiceProcess) -> None:
    with service.client() as client:
        body = client.post("/cleanup").json()
    assert body["status"] == "ok" and body["outputs_removed"] >= 0


def test_metrics_expose_queue_batches_durations_and_failures(service: ServiceProcess) -> None:
    with service.client() as client:
        client.post("/tts", json={"text": "đo lường"})
        text = client.get("/metrics").text
    for name in (
        "tts_http_requests_total",
        "tts_queue_depth",
        "tts_batch_size_bucket",
        "tts_batch_seconds_bucket",
        "tts_job_duration_seconds_bucket",
        "tts_queue_wait_seconds_bucket",
        "tts_real_time_factor_bucket",
        "tts_jobs_finished_total",
        "tts_model_ready 1.0",
    ):
        assert name in text, name
    assert 'route="/tts/status/{job_id}"' in text or 'route="/tts"' in text


def test_openapi_documents_every_endpoint_with_examples(service: ServiceProcess) -> None:
    with service.client() as client:
        spec = client.get("/openapi.json").json()
        assert client.get("/docs").status_code == 200
    schemas = spec["components"]["schemas"]
    expected = {
        ("/health", "get"),
        ("/ping", "get"),
        ("/status", "get"),
        ("/voices", "get"),
        ("/tts", "post"),
        ("/tts/status/{job_id}", "get"),
        ("/tts/progress/{job_id}", "get"),
        ("/tts/kill/{job_id}", "post"),
        ("/tts/{job_id}", "delete"),
        ("/output/{filename}", "get"),
        ("/cleanup", "post"),
        ("/confirm-download/{job_id}", "post"),
        ("/check-download/{job_id}", "get"),
        ("/metrics", "get"),
    }
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert expected <= documented
    assert schemas["TTSRequest"]["examples"]
    for path, method in expected:
        operation = spec["paths"][path][method]
        assert operation.get("summary"), (path, method)
        content = operation["responses"]["200"]["content"]
        examples_found = False
        for media in content.values():
            schema = media.get("schema", {})
            ref = schema.get("$ref", "").rsplit("/", 1)[-1]
            if "example" in media or "examples" in media or (ref and schemas[ref].get("examples")):
                examples_found = True
            if schema.get("format") == "binary":
                examples_found = True  # audio: nothing to show as text
        assert examples_found, (path, method)
