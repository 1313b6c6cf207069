"""The old ``test_confirmation_flow.py``, against the real service with the
package's clients: health, status, voices, submit, complete, confirmed false,
confirm, confirmed true."""

from __future__ import annotations

import io
import wave
from datetime import datetime
from typing import Any

import pytest

from app.client import APIError, AsyncTTSClient, JobFailedError, TTSClient
from tests.app.serverless.conftest import Running
from tests.app.serverless.procs import API_KEY, children_of


def test_confirmation_flow(rest_service: Running) -> None:
    with TTSClient(rest_service.url, api_key=API_KEY) as tts:
        # 1. health
        health = tts.health()
        assert health["status"] == "ok"
        assert set(health["stats"]) >= {"total_requests", "completed_requests", "failed_requests", "queue_size",
                                        "processing"}  # fmt: skip
        # 2. status
        assert tts.server_status()["status"] == "ready"
        # 3. voices
        voices = tts.voices()
        assert voices["count"] >= 1 and "main.wav" in voices["samples"]
        # 4. submit
        submitted = tts.submit("Xin chào, đây là bản kiểm tra.", ref_name="main.wav", speed=0.9,
                               job_id="test_job_001", nfe_step=4)  # fmt: skip
        assert submitted["job_id"] == submitted["request_id"] == "test_job_001"
        assert submitted["status"] in ("queued", "processing")
        # 5. complete
        progress: list[dict[str, Any]] = []
        final = tts.wait("test_job_001", poll_interval=0.1, timeout=60, on_progress=progress.append)
        assert final["status"] == "completed"
        assert final["result"]["sample_rate"] == 24000 and final["result"]["duration"] > 0
        assert progress and progress[-1]["progress"] == 100.0
        audio = tts.download("test_job_001")
        with wave.open(io.BytesIO(audio)) as w:
            assert w.getframerate() == 24000 and w.getnframes() > 0
        # 6. confirmation before
        before = tts.check_download("test_job_001")
        assert before["confirmed"] is False and before["timestamp"] is None
        # 7. confirm
        confirmed = tts.confirm_download("test_job_001")
        assert confirmed["confirmed"] is True and confirmed["job_id"] == "test_job_001"
        # 8. confirmation after
        after = tts.check_download("test_job_001")
        assert after["confirmed"] is True
        datetime.fromisoformat(after["timestamp"].replace("Z", "+00:00"))


def test_sync_synthesis_and_kill(rest_service: Running) -> None:
    with TTSClient(rest_service.url, api_key=API_KEY) as tts:
        audio = tts.synthesize("Một hai ba", job_id="rest-sync-1", nfe_step=4)
        assert audio[:4] == b"RIFF"
        assert tts.job_status("rest-sync-1")["status"] == "completed"
        with pytest.raises(APIError) as conflict:
            tts.kill("rest-sync-1")  # finished jobs cannot be cancelled
        assert conflict.value.status_code == 409


def test_missing_key_is_refused(rest_service: Running) -> None:
    with TTSClient(rest_service.url) as tts:
        assert tts.health()["status"] == "ok"  # open
        with pytest.raises(APIError) as refused:
            tts.voices()
    assert refused.value.status_code == 401 and refused.value.code == "unauthorized"


async def test_async_client_against_the_service(rest_service: Running) -> None:
    async with AsyncTTSClient(rest_service.url, api_key=API_KEY) as tts:
        audio = await tts.synthesize_async("Xin chào", job_id="rest-async-1", nfe_step=4, poll_interval=0.1)
        assert audio[:4] == b"RIFF"
        assert (await tts.check_download("rest-async-1"))["confirmed"] is True
        with pytest.raises(APIError) as unknown:  # refused at submission
            await tts.synthesize_async("Xin chào", ref_name="no_such_voice", nfe_step=4, poll_interval=0.1)
        assert unknown.value.code == "voice_not_found"
        submitted = await tts.submit("Hủy tôi đi " * 40, job_id="rest-async-kill", nfe_step=64)
        await tts.kill(submitted["job_id"])
        with pytest.raises(JobFailedError) as cancelled:
            await tts.wait("rest-async-kill", poll_interval=0.05, timeout=30)
        assert cancelled.value.status == "cancelled"


def test_serve_mode_is_the_service_itself(rest_service: Running) -> None:
    """``launcher serve`` exec's the service: no wrapper process between it and SIGTERM."""
    assert children_of(rest_service.proc.pid) == []
    with TTSClient(rest_service.url) as tts:
        assert tts.ping() == {"status": "healthy"}
    assert "Uvicorn running on http://127.0.0.1:" in rest_service.proc.log()
