"""Worker settings, read from the environment (docs/runpod.md has the table).

The worker shares its container's environment with the service, so its own
knobs carry a ``WORKER_`` prefix; the names the old system and RunPod already
use keep theirs (``TTS_SERVICE_URL``, ``NEXTJS_WEBHOOK_URL``, ``BUCKET_*``,
``API_KEY``, ``RUNPOD_POD_ID``).
"""

from __future__ import annotations

import os

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=True)

    # --- the service in the same container ---
    service_url: str = Field("http://127.0.0.1:8000", validation_alias=_alias("tts_service_url", "service_url"))
    api_key: SecretStr | None = Field(None, validation_alias=_alias("api_key"))
    public_url: str | None = Field(
        None,
        validation_alias=_alias("worker_public_url", "public_base_url"),
        description="base of download_url/confirmation_url as clients see it; "
        "default https://<RUNPOD_POD_ID>-<port>.proxy.runpod.net on RunPod, else the service URL",
    )
    pod_id: str | None = Field(None, validation_alias=_alias("runpod_pod_id"))

    # --- jobs ---
    concurrency: int = Field(8, ge=1, le=256, validation_alias=_alias("worker_concurrency"))
    poll_interval_seconds: float = Field(0.5, gt=0, validation_alias=_alias("worker_poll_interval_seconds"))
    progress_min_interval_seconds: float = Field(
        2.0, ge=0, validation_alias=_alias("worker_progress_min_interval_seconds")
    )
    service_retry_seconds: float = Field(
        180.0,
        ge=0,
        validation_alias=_alias("worker_service_retry_seconds"),
        description="how long transient service errors (503, connection refused) are retried",
    )
    retry_initial_delay_seconds: float = Field(
        0.25, gt=0, le=10, validation_alias=_alias("worker_retry_initial_delay_seconds")
    )
    job_timeout_seconds: float = Field(3600.0, gt=0, validation_alias=_alias("worker_job_timeout_seconds"))
    request_timeout_seconds: float = Field(30.0, gt=0, validation_alias=_alias("worker_request_timeout_seconds"))
    remembered_jobs: int = Field(1024, ge=1, validation_alias=_alias("worker_remembered_jobs"))

    # --- output ---
    inline_audio_max_bytes: int = Field(
        5_000_000,
        ge=0,
        validation_alias=_alias("worker_inline_audio_max_bytes"),
        description="WAV bytes up to which audio_base64 is returned (base64 adds a third; RunPod refuses ~10 MB+)",
    )
    confirmation_timeout_seconds: float = Field(
        60.0, ge=0, validation_alias=_alias("worker_confirmation_timeout_seconds")
    )
    confirmation_poll_seconds: float = Field(1.0, gt=0, validation_alias=_alias("worker_confirmation_poll_seconds"))

    # --- completion webhook ---
    webhook_url: str | None = Field(None, validation_alias=_alias("nextjs_webhook_url", "worker_webhook_url"))
    webhook_secret: SecretStr | None = Field(None, validation_alias=_alias("worker_webhook_secret", "webhook_secret"))
    webhook_attempts: int = Field(3, ge=1, le=10, validation_alias=_alias("worker_webhook_attempts"))

    # --- S3-compatible bucket (RunPod's names) ---
    bucket_endpoint_url: str | None = Field(None, validation_alias=_alias("bucket_endpoint_url"))
    bucket_access_key_id: str | None = Field(None, validation_alias=_alias("bucket_access_key_id"))
    bucket_secret_access_key: SecretStr | None = Field(None, validation_alias=_alias("bucket_secret_access_key"))
    bucket_name: str = Field("f5-tts-vi", validation_alias=_alias("bucket_name"))
    bucket_region: str | None = Field(None, validation_alias=_alias("bucket_region"))
    bucket_prefix: str = Field("tts/", validation_alias=_alias("bucket_prefix"))
    presign_seconds: int = Field(86_400, ge=60, le=604_800, validation_alias=_alias("bucket_presign_seconds"))

    @field_validator(
        "public_url", "webhook_url", "bucket_endpoint_url", "pod_id", "bucket_access_key_id", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_key", "webhook_secret", "bucket_secret_access_key", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value else value

    @property
    def s3_enabled(self) -> bool:
        return bool(self.bucket_endpoint_url and self.bucket_access_key_id and self.bucket_secret_access_key)

    @property
    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None

    def client_base_url(self) -> str:
        """Where a client outside the container reaches the service."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.pod_id:
            port = self.service_url.rstrip("/").rsplit(":", 1)[-1]
            port = port if port.isdigit() else "8000"
            return f"https://{self.pod_id}-{port}.proxy.runpod.net"
        return self.service_url.rstrip("/")


def on_runpod() -> bool:
    """True inside a deployed worker (the SDK's own test: the job-take URL is set)."""
    return os.environ.get("RUNPOD_WEBHOOK_GET_JOB") is not None
