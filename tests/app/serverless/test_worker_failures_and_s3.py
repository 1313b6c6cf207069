"""The bucket path against a real S3-compatible server (moto in server mode),
and the service dying under a running job."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import httpx

from app.client import APIError, RunPodTTSClient, TTSClient, tts_input
from tests.app.serverless.conftest import Running
from tests.app.serverless.procs import API_KEY, start_moto, start_service, start_worker


def test_bucket_upload_returns_a_presigned_audio_url(service: Running, tmp_path: Path) -> None:
    moto, endpoint = start_moto(tmp_path)
    worker = None
    try:
        creds = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds)
        s3.create_bucket(Bucket="tts-out")
        worker, url = start_worker(
            tmp_path,
            service.url,
            API_KEY=API_KEY,
            BUCKET_ENDPOINT_URL=endpoint,
            BUCKET_ACCESS_KEY_ID="test-key",
            BUCKET_SECRET_ACCESS_KEY="test-secret",
            BUCKET_NAME="tts-out",
        )
        with RunPodTTSClient(url) as rp:  # no service key: the bucket link needs none
            answer = rp.runsync(tts_input("Lưu vào kho", job_id="it-s3-1", nfe_step=4))
            assert answer["status"] == "COMPLETED", answer
            output = answer["output"]
            assert "audio_base64" not in output
            assert output["audio_url"].startswith(f"{endpoint}/tts-out/tts/it-s3-1/it-s3-1.wav?")
            assert "X-Amz-Signature=" in output["audio_url"]
            assert output["download_url"] == output["audio_url"]
            assert output["confirmation_timeout_seconds"] == 0.0
            audio = rp.fetch_audio(output)
        stored = s3.get_object(Bucket="tts-out", Key="tts/it-s3-1/it-s3-1.wav")
        assert stored["ContentType"] == "audio/wav"
        assert stored["Body"].read() == audio
        with TTSClient(service.url, api_key=API_KEY) as tts:
            assert tts.download("it-s3-1") == audio
        # Nothing to wait for: no confirmation waiter was started.
        assert "confirmation.waiting job_id=it-s3-1" not in worker.log()
    finally:
        if worker is not None:
            worker.stop()
        moto.stop()


def test_the_service_dying_mid_job_fails_the_job(tmp_path: Path) -> None:
    service, service_url = start_service(tmp_path / "svc")
    worker = None
    try:
        worker, url = start_worker(tmp_path, service_url, WORKER_SERVICE_RETRY_SECONDS="2")
        long_text = " ".join(["Xin chào các bạn, hôm nay trời đẹp quá, chúng ta cùng đi chơi nhé."] * 6)
        answers: list[dict[str, Any]] = []
        with RunPodTTSClient(url) as rp:
            submitted = rp.run(tts_input(long_text, job_id="it-dies", nfe_step=128))
            # The local test server runs the job inside the /status call.
            waiting = threading.Thread(target=lambda: answers.append(rp.status(submitted["id"])))
            waiting.start()
            with TTSClient(service_url) as tts:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        if tts.progress("it-dies")["status"] == "processing":
                            break
                    except (httpx.HTTPError, APIError):
                        pass  # not submitted yet
                    time.sleep(0.05)
                assert tts.progress("it-dies")["status"] == "processing"
            service.signal(signal.SIGKILL)
            killed_at = time.monotonic()
            waiting.join(timeout=30)
        assert not waiting.is_alive()
        answer = answers[0]
        assert answer["status"] == "FAILED"
        assert answer["error"].startswith("service_unavailable: ")
        assert "did not answer for 2 s" in answer["error"]
        assert time.monotonic() - killed_at < 10
        assert "service.retry" in worker.log()
    finally:
        if worker is not None:
            worker.stop()
        service.stop()
