"""Request and response schemas of the synthesis endpoints (seed contract first)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models.jobs import JobMode, JobStatus
from app.models.normalize import ExtraLexicon

JOB_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
MAX_SEED = 2**31 - 1


class TTSRequest(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        extra="ignore",  # old clients send extra keys; they must keep working
        json_schema_extra={
            "examples": [
                {"text": "Xin chào, đây là test", "speed": 0.75},
                {"text": "Xin chào, đây là test", "speed": 0.75, "async": True},
                {
                    "text": "Xin chào, đây là bản kiểm tra hệ thống F5-TTS tiếng Việt.",
                    "ref_name": "main.wav",
                    "speed": 0.9,
                    "job_id": "test_job_001",
                    "async": True,
                    "seed": 42,
                    "nfe_step": 32,
                    "cfg_strength": 2.0,
                },
                {
                    "text": "Hệ thống F5-TTS đọc 1.234 câu mỗi ngày.",
                    "extra_lexicon": {"F5-TTS": "ép năm tê tê ét"},
                    "normalize": True,
                },
                {
                    "text": "Xin chào, đây là giọng của tôi.",
                    "ref_audio_base64": "UklGRiSAAQBXQVZFZm10IBAAAAABAAEAwF0AAIC7AAACABAAZGF0YQCAAQ...",
                    "ref_text": "hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé.",
                },
            ]
        },
    )

    text: str = Field(min_length=1, description="Vietnamese text to speak (limit: MAX_TEXT_LENGTH characters)")
    ref_name: str | None = Field(
        None,
        max_length=200,
        description='voice sample name: "main", "main.wav" or "sample/main.wav"; default DEFAULT_VOICE',
    )
    ref_text: str | None = Field(
        None, max_length=2000, description="transcript of the voice sample; default: its .txt file"
    )
    speed: float | None = Field(None, ge=0.5, le=2.0, description="speaking rate; default DEFAULT_SPEED (0.9)")
    job_id: str | None = Field(
        None,
        pattern=JOB_ID_PATTERN,
        description="client-chosen id (letters, digits, _ . -); an existing id is answered, never run twice",
    )
    async_: bool = Field(False, alias="async", description="answer at once with the job id instead of the audio")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="random seed; same seed, same audio")
    nfe_step: int | None = Field(
        None, ge=1, le=128, description="ODE steps (quality vs speed); default DEFAULT_NFE_STEP (32)"
    )
    cfg_strength: float | None = Field(
        None, ge=0.0, le=10.0, description="classifier-free guidance strength; default 2.0"
    )
    format: Literal["wav", "flac", "mp3", "opus", "pcm"] = Field(
        "wav",
        description="audio format of the result: wav (PCM16), flac, mp3 (CBR), opus (Ogg), "
        "pcm (raw 16-bit little-endian mono)",
    )
    sample_rate: Literal[16000, 22050, 24000, 44100, 48000] | None = Field(
        None,
        description="output sample rate; default 24000 (the model's). Opus has no 22050/44100: "
        "those are encoded at 24000/48000",
    )
    webhook_url: str | None = Field(
        None,
        max_length=2000,
        description="per-request completion webhook (only when WEBHOOK_ALLOW_PER_REQUEST=true)",
    )
    normalize: bool | None = Field(
        None,
        description="Vietnamese text normalization (Vinorm + rules + lexicon); false: only NFC, whitespace and "
        "lower case. Default TEXT_NORMALIZATION (true). POST /normalize shows the result",
    )
    extra_lexicon: ExtraLexicon | None = None
    ref_audio_base64: str | None = Field(
        None,
        description="one-off voice cloning: a reference clip (WAV, FLAC, MP3 or OGG, 1-30 s; a data: URL works "
        "too), base64-encoded, used instead of ref_name (send ref_text with it, else it is transcribed). "
        "Checked like POST /voices uploads, never added to the voice library. The body limit "
        "(MAX_BODY_BYTES) applies: base64 adds a third, and the model uses at most ~12 s of the clip",
    )

    @field_validator("format", mode="before")
    @classmethod
    def _format_case_insensitive(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class TTSAccepted(BaseModel):
    """Answer to ``"async": true``: the job is recorded and queued."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": "3f0c9a8e2b7d4c61a5e9f0d1c2b3a4e5",
                    "job_id": "3f0c9a8e2b7d4c61a5e9f0d1c2b3a4e5",
                    "status": "queued",
                    "queue_position": 3,
                    "duplicate": False,
                    "status_url": "/tts/status/3f0c9a8e2b7d4c61a5e9f0d1c2b3a4e5",
                    "progress_url": "/tts/progress/3f0c9a8e2b7d4c61a5e9f0d1c2b3a4e5",
                    "download_url": "/output/3f0c9a8e2b7d4c61a5e9f0d1c2b3a4e5.wav",
                }
            ]
        }
    )

    request_id: str
    job_id: str
    status: JobStatus
    queue_position: int | None = Field(
        None, description="0: being synthesized; n: n-1 unfinished jobs ahead; null: finished"
    )
    duplicate: bool = Field(False, description="true when job_id already existed: this is that job")
    status_url: str
    progress_url: str
    download_url: str


class JobResult(BaseModel):
    output_path: str = Field(description="path of the audio on the server, as the old API reported it")
    filename: str
    download_url: str
    format: str = Field("wav", description="audio format of the file (wav, flac, mp3, opus, pcm)")
    sample_rate: int
    duration: float = Field(description="seconds of audio")
    processing_time: float = Field(description="seconds from the first forward pass to the file being written")


class ErrorInfo(BaseModel):
    code: str
    message: str


class JobStatusResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": "abc-123-def-456",
                    "job_id": "abc-123-def-456",
                    "status": "completed",
                    "mode": "async",
                    "queue_position": None,
                    "progress": 100.0,
                    "created_at": "2025-11-22T10:30:40.120000Z",
                    "started_at": "2025-11-22T10:30:40.150000Z",
                    "finished_at": "2025-11-22T10:30:42.650000Z",
                    "result": {
                        "output_path": "outputs/abc-123-def-456.wav",
                        "filename": "abc-123-def-456.wav",
                        "download_url": "/output/abc-123-def-456.wav",
                        "sample_rate": 24000,
                        "duration": 2.5,
                        "processing_time": 2.5,
                    },
                    "error": None,
                    "download_confirmed": False,
                }
            ]
        }
    )

    request_id: str
    job_id: str
    status: JobStatus
    mode: JobMode
    queue_position: int | None = None
    progress: float = Field(description="percent, 0-100")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: JobResult | None = None
    error: ErrorInfo | None = None
    download_confirmed: bool = False


class JobProgressResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "test_job_001",
                    "request_id": "test_job_001",
                    "status": "processing",
                    "progress": 42.5,
                    "step": 14,
                    "total_steps": 32,
                    "chunks_done": 1,
                    "chunks_total": 3,
                    "queue_position": 0,
                    "elapsed_seconds": 3.1,
                    "eta_seconds": 4.2,
                    "message": "synthesizing",
                }
            ]
        }
    )

    job_id: str
    request_id: str
    status: JobStatus
    progress: float = Field(description="percent, 0-100, from the ODE steps actually integrated")
    step: int = Field(0, description="ODE step of the running batch holding this job")
    total_steps: int = 0
    chunks_done: int = 0
    chunks_total: int | None = None
    queue_position: int | None = None
    elapsed_seconds: float | None = Field(None, description="since the first forward pass")
    eta_seconds: float | None = Field(None, description="estimated seconds left, from the rate so far")
    message: str


class KillResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"job_id": "test_job_001", "status": "cancelled", "cancelled": True, "message": "job cancelled"}
            ]
        }
    )

    job_id: str
    status: JobStatus
    cancelled: bool
    message: str


class ConfirmDownloadResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "confirmed": True,
                    "job_id": "test_job_001",
                    "timestamp": "2024-01-20T10:30:45.123456Z",
                    "removal_after": "2024-01-20T10:40:45.123456Z",
                }
            ]
        }
    )

    confirmed: bool
    job_id: str
    timestamp: datetime
    removal_after: datetime | None = Field(None, description="when retention removes the audio")


class CheckDownloadResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"confirmed": True, "timestamp": "2024-01-20T10:30:45.123456Z", "job_id": "test_job_001"}]
        }
    )

    confirmed: bool
    timestamp: datetime | None
    job_id: str
