"""The worker's input and output (seeds.md section 5, docs/runpod.md).

Input: ``{"input": {"text", "ref_name"? ("main.wav"), "speed"? (0.5-2.0, 0.9),
"job_id"?}}`` plus the service's optional synthesis fields. Unknown keys are
ignored, as the service does, so old clients keep working.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# The service's job id rule (app/models/tts.py, JOB_ID_PATTERN): the worker
# checks it too so a bad id fails at once instead of after a round trip.
JOB_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
_JOB_ID_RE = re.compile(JOB_ID_PATTERN)


class HandlerInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    text: str = Field(min_length=1, max_length=200_000, description="Vietnamese text to speak")
    ref_name: str = Field("main.wav", min_length=1, max_length=200, description="voice sample, with or without .wav")
    speed: float = Field(0.9, ge=0.5, le=2.0)
    job_id: str | None = Field(None, pattern=JOB_ID_PATTERN, description="client-chosen id; repeated ids run once")
    ref_text: str | None = Field(None, max_length=2000)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    nfe_step: int | None = Field(None, ge=1, le=128)
    cfg_strength: float | None = Field(None, ge=0.0, le=10.0)
    format: Literal["wav"] = "wav"

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value

    def service_request(self, job_id: str) -> dict[str, object]:
        """Body of the service's ``POST /tts`` (async)."""
        body: dict[str, object] = {
            "text": self.text,
            "ref_name": self.ref_name,
            "speed": self.speed,
            "job_id": job_id,
            "async": True,
            "format": self.format,
        }
        for key in ("ref_text", "seed", "nfe_step", "cfg_strength"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body

    @property
    def sample_used(self) -> str:
        """The voice as the old output named it: ``3_Nu.wav`` for ``sample/3_Nu``."""
        name = self.ref_name.strip().rsplit("/", 1)[-1]
        return name if name.lower().endswith(".wav") else f"{name}.wav"


class HandlerOutput(BaseModel):
    """What a COMPLETED job's ``output`` holds."""

    model_config = ConfigDict(extra="forbid")

    filename: str
    download_url: str
    confirmation_url: str
    sample_used: str
    processing_time_seconds: float
    job_id: str
    audio_base64: str | None = Field(None, description="the WAV, only when at most WORKER_INLINE_AUDIO_MAX_BYTES")
    audio_url: str | None = Field(None, description="presigned bucket URL, when a bucket is configured")
    audio_bytes: int | None = None
    duration_seconds: float | None = None
    sample_rate: int | None = None
    synthesis_seconds: float | None = Field(None, description="the service's own processing time")
    confirmation_timeout_seconds: float = Field(
        0.0, description="how long the worker waits for confirmation_url; 0: not needed"
    )
    duplicate: bool = Field(False, description="this job id had already run: this is its result")
    warning: str | None = Field(None, description="the audio could not be attached or uploaded; use download_url")


def is_valid_job_id(value: str) -> bool:
    return bool(_JOB_ID_RE.fullmatch(value))


def describe_validation_error(exc: ValidationError) -> str:
    """``text: Field required; speed: Input should be less than or equal to 2``."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "input"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)
