"""Audio upload to an S3-compatible bucket (AWS S3, R2, B2, MinIO, ...).

Configured with RunPod's variable names: ``BUCKET_ENDPOINT_URL``,
``BUCKET_ACCESS_KEY_ID``, ``BUCKET_SECRET_ACCESS_KEY``, plus ``BUCKET_NAME``
(default ``f5-tts-vi``) and optional ``BUCKET_REGION``/``BUCKET_PREFIX``. The
object key is ``<prefix><job_id>/<filename>``: a job delivered twice
overwrites its own object, never makes a second one. The answer is a
presigned GET URL valid ``BUCKET_PRESIGN_SECONDS``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.serverless.config import WorkerSettings


class S3Uploader:
    def __init__(self, settings: WorkerSettings) -> None:
        import boto3
        from botocore.config import Config

        if not settings.s3_enabled:
            raise ValueError("BUCKET_ENDPOINT_URL, BUCKET_ACCESS_KEY_ID and BUCKET_SECRET_ACCESS_KEY are required")
        assert settings.bucket_secret_access_key is not None
        self.settings = settings
        self.bucket = settings.bucket_name
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.bucket_endpoint_url,
            aws_access_key_id=settings.bucket_access_key_id,
            aws_secret_access_key=settings.bucket_secret_access_key.get_secret_value(),
            region_name=settings.bucket_region or "us-east-1",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    def key_for(self, job_id: str, filename: str) -> str:
        return f"{self.settings.bucket_prefix}{job_id}/{filename}"

    def upload(self, data: bytes, job_id: str, filename: str, content_type: str = "audio/wav") -> str:
        key = self.key_for(job_id, filename)
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.settings.presign_seconds,
        )

    async def upload_async(self, data: bytes, job_id: str, filename: str, content_type: str = "audio/wav") -> str:
        return await asyncio.to_thread(self.upload, data, job_id, filename, content_type)
