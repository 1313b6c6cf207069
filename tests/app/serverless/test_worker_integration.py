"""The worker for real: the service (demo model) and ``python -m app.serverless
--rp_serve_api`` as processes, driven over loopback HTTP through /runsync and
/run + /status with the package's own RunPod client."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import wave

import httpx
import pytest

from app.client import AsyncRunPodTTSClient, RunPodTTSClient, TTSClient, tts_input
from app.serverless.background import sign_body
from app.serverless.schemas import HandlerOutput
from tests.app.serverless.conftest import WEBHOOK_SECRET, Running, WebhookReceiver
from tests.app.serverless.procs import API_KEY

FAST = {"nfe_step": 4}


def wav_info(data: bytes) -> tuple[int, int]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnframes()


def service_client(service: Running) -> TTSClient:
    return TTSClient(service.url, api_key=API_KEY)


def total_requests(service: Running) -> int:
    with service_client(service) as tts:
        return tts.health()["stats"]["total_requests"]


def test_runsync_returns_the_seed_output_and_the_confirmation_flow_works(
    service: Running, worker: Running, webhook_receiver: WebhookReceiver
) -> None:
    with RunPodTTSClient(worker.url, service_api_key=API_KEY) as rp:
        answer = rp.runsync(tts_input("Xin chào Việt Nam", job_id="it-runsync-1", **FAST))
        assert answer["status"] == "COMPLETED", answer
        output = answer["output"]
        HandlerOutput.model_validate(output)
        assert output["job_id"] == "it-runsync-1"
        assert output["filename"] == "it-runsync-1.wav"
        assert output["sample_used"] == "main.wav"
        assert output["download_url"] == f"{service.url}/output/it-runsync-1.wav"
        assert output["confirmation_url"] == f"{service.url}/confirm-download/it-runsync-1"
        assert output["processing_time_seconds"] > 0

        inline = base64.b64decode(output["audio_base64"])
        assert wav_info(inline)[0] == 24000 and wav_info(inline)[1] > 0
        # The worker's download_url serves the same file (with the service's key).
        assert rp.fetch_audio({"download_url": output["download_url"]}) == inline

        with service_client(service) as tts:
            assert tts.check_download("it-runsync-1")["confirmed"] is False
            confirmed = rp.confirm(output)
            assert confirmed is not None and confirmed["confirmed"] is True
            assert tts.check_download("it-runsync-1")["confirmed"] is True
    # The worker's waiter saw the confirmation.
    assert worker.proc.wait_log("confirmation.received job_id=it-runsync-1", timeout=5)
    # The frontend got the completion webhook, signed, without the audio.
    headers, hook = webhook_receiver.wait_for("it-runsync-1")
    assert hook["event"] == "tts.completed" and hook["status"] == "COMPLETED"
    assert hook["id"] == answer["id"]
    assert hook["output"]["download_url"] == output["download_url"]
    assert "audio_base64" not in hook["output"]
    body = next(b for h, b in webhook_receiver.received if json.loads(b)["job_id"] == "it-runsync-1")
    assert headers["x-webhook-signature"] == sign_body(WEBHOOK_SECRET, body)


def test_an_old_client_that_never_confirms_still_completes_with_a_warning(worker: Running) -> None:
    with RunPodTTSClient(worker.url, service_api_key=API_KEY) as rp:
        answer = rp.runsync(tts_input("Không xác nhận", job_id="it-noconfirm", **FAST))
    assert answer["status"] == "COMPLETED"
    # WORKER_CONFIRMATION_TIMEOUT_SECONDS=2 in the tests.
    assert worker.proc.wait_log("confirmation.timeout job_id=it-noconfirm", timeout=8)
    assert "download confirmation not received" in worker.proc.log()


def test_run_and_status_with_the_sync_client(worker: Running) -> None:
    seen: list[str] = []
    with RunPodTTSClient(worker.url, service_api_key=API_KEY) as rp:
        audio, output = rp.synthesize(
            "Một hai ba bốn", ref_name="main", speed=1.1, poll_interval=0.1, timeout=60,
            on_status=lambda s: seen.append(s["status"]), **FAST,
        )  # fmt: skip
    assert seen[-1] == "COMPLETED"
    assert output["job_id"].startswith("test-")  # the id the local server gave the job
    assert wav_info(audio)[1] > 0
    assert worker.proc.wait_log(f"confirmation.received job_id={output['job_id']}", timeout=5)


async def test_concurrent_jobs_through_run_and_status_all_succeed_and_share_batches(
    service: Running, worker: Running
) -> None:
    texts = ["Xin chào", "Cảm ơn bạn", "Hẹn gặp lại", "Chúc ngủ ngon"]
    async with AsyncRunPodTTSClient(worker.url, service_api_key=API_KEY) as rp:
        submitted = [await rp.run(tts_input(t, job_id=f"it-conc-{i}", **FAST)) for i, t in enumerate(texts)]
        assert all(s["status"] == "IN_PROGRESS" for s in submitted)
        finals = await asyncio.gather(*(rp.wait(s["id"], poll_interval=0.1, timeout=60) for s in submitted))
        audios = await asyncio.gather(*(rp.fetch_audio(f["output"]) for f in finals))
        await asyncio.gather(*(rp.confirm(f["output"]) for f in finals))
    assert [f["output"]["job_id"] for f in finals] == [f"it-conc-{i}" for i in range(4)]
    assert all(wav_info(a)[1] > 0 for a in audios)
    with service_client(service) as tts:
        batching = tts.server_status()["batching"]
    assert batching["max_batch_size_seen"] >= 2, batching


async def test_a_job_id_sent_twice_is_synthesized_once(service: Running, worker: Running) -> None:
    before = total_requests(service)
    payload = tts_input("Chỉ một lần thôi", job_id="it-dup-1", **FAST)
    async with AsyncRunPodTTSClient(worker.url, service_api_key=API_KEY) as rp:
        first, second = await asyncio.gather(rp.runsync(payload), rp.runsync(payload))
        third = await rp.runsync(payload)
    outputs = [a["output"] for a in (first, second, third)]
    assert all(a["status"] == "COMPLETED" for a in (first, second, third))
    assert sorted(o["duplicate"] for o in outputs[:2]) == [False, True]
    assert outputs[2]["duplicate"] is True
    assert len({o["audio_base64"] for o in outputs}) == 1
    assert total_requests(service) == before + 1


def test_bad_input_fails_at_once(worker: Running, webhook_receiver: WebhookReceiver) -> None:
    with RunPodTTSClient(worker.url) as rp:
        for payload, fragment in [
            ({"speed": 0.9}, "text: Field required"),
            ({"text": "Xin chào", "speed": 5}, "speed"),
            ({"text": "Xin chào", "job_id": "bad id!"}, "job_id"),
        ]:
            start = time.monotonic()
            answer = rp.runsync(payload)
            assert answer["status"] == "FAILED"
            assert answer["error"].startswith("invalid_input: ") and fragment in answer["error"]
            assert time.monotonic() - start < 2.0
        # A voice the service does not have: a permanent refusal, not retried.
        start = time.monotonic()
        answer = rp.runsync(tts_input("Xin chào", ref_name="no_such_voice", **FAST))
        assert answer["status"] == "FAILED"
        assert answer["error"].startswith("voice_not_found: ")
        assert time.monotonic() - start < 2.0
    _, hook = webhook_receiver.wait_for(answer["id"])  # no job_id given: RunPod's id is the job id
    assert hook["event"] == "tts.failed" and hook["error"] == answer["error"]


def test_worker_urls_require_the_service_key(service: Running, worker: Running) -> None:
    with RunPodTTSClient(worker.url, service_api_key=API_KEY) as rp:
        output = rp.runsync(tts_input("Khoá", job_id="it-key", **FAST))["output"]
        rp.confirm(output)
    assert httpx.get(output["download_url"]).status_code == 401
    assert httpx.get(output["download_url"], headers={"X-API-Key": API_KEY}).status_code == 200


@pytest.mark.parametrize("client_kind", ["sync", "async"])
def test_status_of_an_unknown_job(worker: Running, client_kind: str) -> None:
    if client_kind == "sync":
        with RunPodTTSClient(worker.url) as rp:
            answer = rp.status("no-such-job")
    else:

        async def go() -> dict:
            async with AsyncRunPodTTSClient(worker.url) as rp:
                return await rp.status("no-such-job")

        answer = asyncio.run(go())
    assert answer["status"] == "FAILED"
