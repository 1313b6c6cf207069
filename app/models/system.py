"""Schemas of the operational endpoints: health, status, voices, cleanup."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.models.normalize import TextStatus


class HealthStats(BaseModel):
    total_requests: int
    completed_requests: int
    failed_requests: int
    cancelled_requests: int = 0
    queue_size: int
    processing: bool


class HealthResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "model": "F5-TTS Vietnamese",
                    "message": "Model đã được load và sẵn sàng",
                    "stats": {
                        "total_requests": 10,
                        "completed_requests": 8,
                        "failed_requests": 0,
                        "cancelled_requests": 0,
                        "queue_size": 2,
                        "processing": True,
                    },
                }
            ]
        }
    )

    status: str = Field(description="ok, loading or error")
    model: str
    message: str
    stats: HealthStats


class BatchingStatus(BaseModel):
    max_batch_items: int
    max_batch_frames: int
    batches_run: int
    chunks_run: int
    mean_batch_size: float
    max_batch_size_seen: int
    last_batch_size: int
    last_batch_jobs: int
    last_batch_seconds: float


class QueueStatus(BaseModel):
    unfinished: int = Field(description="jobs queued or processing")
    processing: int
    max_queue_size: int


class ModelStatus(BaseModel):
    name: str
    state: str
    arch: str | None
    checkpoint: str
    vocoder: str
    demo: bool
    sample_rate: int
    load_seconds: float | None
    error: str | None = None


class StatusResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "version": "0.1.0",
                    "uptime_seconds": 3600.5,
                    "model": {
                        "name": "F5-TTS Vietnamese",
                        "state": "ready",
                        "arch": "F5TTS_Base",
                        "checkpoint": "hf://hynt/F5-TTS-Vietnamese-ViVoice/model_last.pt",
                        "vocoder": "charactr/vocos-mel-24khz",
                        "demo": False,
                        "sample_rate": 24000,
                        "load_seconds": 12.3,
                        "error": None,
                    },
                    "device": {
                        "device": "cuda:0",
                        "dtype": "float16",
                        "gpu": {
                            "name": "NVIDIA H100 80GB HBM3",
                            "memory_total_mb": 81079,
                            "memory_free_mb": 75000,
                            "memory_allocated_mb": 1400,
                            "memory_reserved_mb": 2048,
                        },
                    },
                    "queue": {"unfinished": 3, "processing": 2, "max_queue_size": 1000},
                    "batching": {
                        "max_batch_items": 16,
                        "max_batch_frames": 40000,
                        "batches_run": 120,
                        "chunks_run": 610,
                        "mean_batch_size": 5.08,
                        "max_batch_size_seen": 16,
                        "last_batch_size": 4,
                        "last_batch_jobs": 3,
                        "last_batch_seconds": 1.9,
                    },
                    "jobs": {
                        "total_requests": 130,
                        "completed_requests": 125,
                        "failed_requests": 2,
                        "cancelled_requests": 0,
                        "queue_size": 3,
                        "processing": True,
                    },
                    "text": {
                        "normalization_default": True,
                        "normalizer": "vinorm",
                        "vinorm_active": True,
                        "vinorm_error": None,
                        "lexicon_path": "/app/app/data/lexicon.tsv",
                        "auto_transcribe": True,
                        "transcriber_model": "vinai/PhoWhisper-small",
                        "transcriber_loaded": False,
                    },
                }
            ]
        }
    )

    status: str
    version: str
    uptime_seconds: float
    model: ModelStatus
    device: dict[str, Any]
    queue: QueueStatus
    batching: BatchingStatus
    jobs: HealthStats
    text: TextStatus | None = Field(None, description="text front-end (Vinorm or rules only) and transcription")


class CleanupResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "message": "GPU memory released; retention sweep done",
                    "gpu_memory_before_mb": 2048,
                    "gpu_memory_after_mb": 1400,
                    "outputs_removed": 3,
                }
            ]
        }
    )

    status: str
    message: str
    gpu_memory_before_mb: int | None = None
    gpu_memory_after_mb: int | None = None
    outputs_removed: int


class PingResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "healthy"}]})

    status: str
