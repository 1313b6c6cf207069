"""The bucket path against a real S3-compatible server (moto in server mode)."""

from __future__ import annotations

from pathlib import Path

import boto3

from app.client import RunPodTTSClient, TTSClient, tts_input
from tests.app.serverless.conftest import Running
from tests.app.serverless.procs import API_KEY, start_moto, start_worker


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
