"""Job records: what the job store keeps for every request, sync or async."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class JobStatus(str, Enum):
    queued = "queued"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.completed, JobStatus.failed, JobStatus.cancelled)


UNFINISHED_STATUSES = (JobStatus.queued, JobStatus.processing)


class JobMode(str, Enum):
    sync = "sync"
    async_ = "async"
    stream = "stream"  # /tts/stream, the OpenAI endpoint's streamed answers, the WebSocket


class JobParams(BaseModel):
    """Everything needed to (re)run a job, fixed at submission.

    The seed is chosen at submission when the caller gave none, so a job
    re-run after a restart produces the same audio as the first attempt would.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    voice: str
    ref_text: str | None = None
    speed: float
    seed: int
    nfe_step: int
    cfg_strength: float
    format: str = "wav"
    sample_rate: int | None = None  # requested output rate; None = the engine's (24 kHz)
    webhook_url: str | None = None
    # Text front-end and voice options (docs/voices.md); defaults = jobs recorded before them.
    normalize: bool = True  # False: only NFC, whitespace and lower case
    extra_lexicon: dict[str, str] | None = None  # per-request lexicon entries
    ref_audio: str | None = None  # id of an inline reference clip (DATA_DIR/references/<id>.wav)


class JobRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    seq: int = 0
    status: JobStatus
    mode: JobMode
    params: JobParams
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    progress: float = Field(0.0, ge=0.0, le=1.0)
    chunks_total: int | None = None
    chunks_done: int = 0
    error_code: str | None = None
    error_message: str | None = None
    output_filename: str | None = None
    sample_rate: int | None = None
    duration: float | None = None
    processing_time: float | None = None
    download_confirmed_at: float | None = None
    output_removed_at: float | None = None
    output_removed_reason: str | None = None
    webhook_state: str | None = None
    recoveries: int = 0
