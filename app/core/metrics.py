"""Prometheus metrics, one registry per app instance (tests build several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "tts_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.jobs_submitted = Counter("tts_jobs_submitted", "jobs accepted", ["mode"], registry=r)
        self.jobs_duplicate = Counter("tts_jobs_duplicate", "submissions answered by an existing job_id", registry=r)
        self.jobs_finished = Counter("tts_jobs_finished", "jobs finished, by final status", ["status"], registry=r)
        self.job_failures = Counter("tts_job_failures", "failed jobs, by error code", ["code"], registry=r)
        self.requests_rejected = Counter(
            "tts_requests_rejected", "submissions refused before becoming jobs", ["code"], registry=r
        )
        self.queue_depth = Gauge("tts_queue_depth", "unfinished jobs (queued or processing)", registry=r)
        self.jobs_processing = Gauge("tts_jobs_processing", "jobs with a chunk in the running batch", registry=r)
        self.model_ready = Gauge("tts_model_ready", "1 once the model is loaded and warm", registry=r)
        self.batch_size = Histogram(
            "tts_batch_size", "chunks per forward pass", buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64), registry=r
        )
        self.batch_jobs = Histogram(
            "tts_batch_jobs", "distinct jobs per forward pass", buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32), registry=r
        )
        self.batch_frames = Histogram(
            "tts_batch_frames",
            "mel frames per forward pass (reference included)",
            buckets=(500, 1000, 2000, 4000, 8000, 16000, 32000, 64000),
            registry=r,
        )
        self.batch_seconds = Histogram(
            "tts_batch_seconds", "time of one batched sampling + vocoder pass", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.job_seconds = Histogram(
            "tts_job_duration_seconds", "submission to completion", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.queue_wait_seconds = Histogram(
            "tts_queue_wait_seconds", "submission to first forward pass", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.real_time_factor = Histogram(
            "tts_real_time_factor",
            "processing seconds per second of audio produced",
            buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 50),
            registry=r,
        )
        self.audio_seconds = Counter("tts_audio_seconds", "seconds of audio produced", registry=r)
        self.webhook_deliveries = Counter(
            "tts_webhook_deliveries", "webhook deliveries, by outcome", ["result"], registry=r
        )
        self.outputs_removed = Counter(
            "tts_outputs_removed", "audio files removed by retention", ["reason"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
