"""What the operational endpoints report and do: health, status, cleanup."""

from __future__ import annotations

import asyncio
import time

from app import __version__
from app.core.config import Settings
from app.models.normalize import TextStatus
from app.models.system import (
    BatchingStatus,
    CleanupResponse,
    HealthResponse,
    HealthStats,
    ModelStatus,
    QueueStatus,
    StatusResponse,
)
from app.services.engine import EngineService, EngineState
from app.services.jobs import JobService
from app.services.retention import OutputRetention
from app.services.voice_library import VoiceLibrary

_HEALTH_MESSAGES = {
    EngineState.ready: "Model đã được load và sẵn sàng",  # the old server's message: "model loaded and ready"
    EngineState.loading: "model is loading",
    EngineState.failed: "model failed to load; see /status",
}


class SystemService:
    def __init__(
        self,
        settings: Settings,
        engine: EngineService,
        jobs: JobService,
        voices: VoiceLibrary,
        retention: OutputRetention,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.jobs = jobs
        self.voices = voices
        self.retention = retention
        self.started_at = time.monotonic()

    def stats(self) -> HealthStats:
        totals = self.jobs.totals
        scheduler = self.jobs.scheduler
        return HealthStats(
            total_requests=totals.get("total", 0),
            completed_requests=totals.get("completed", 0),
            failed_requests=totals.get("failed", 0),
            cancelled_requests=totals.get("cancelled", 0),
            queue_size=scheduler.unfinished_count,
            processing=bool(scheduler.processing_ids),
        )

    def health(self) -> HealthResponse:
        state = self.engine.state
        return HealthResponse(
            status={EngineState.ready: "ok", EngineState.loading: "loading"}.get(state, "error"),
            model=self.settings.model_name,
            message=_HEALTH_MESSAGES[state],
            stats=self.stats(),
        )

    def status(self) -> StatusResponse:
        s = self.settings
        scheduler = self.jobs.scheduler
        batch = scheduler.stats
        return StatusResponse(
            status=self.engine.state.value,
            version=__version__,
            uptime_seconds=round(time.monotonic() - self.started_at, 3),
            model=ModelStatus(
                name=s.model_name,
                state=self.engine.state.value,
                arch=self.engine.arch_name or ("demo" if s.demo else s.model_arch),
                checkpoint="(built in memory)" if s.demo else s.model_checkpoint,
                vocoder="(built in memory)" if s.demo else s.model_vocoder,
                demo=s.demo,
                sample_rate=self.engine.sample_rate,
                load_seconds=round(self.engine.load_seconds, 3) if self.engine.load_seconds else None,
                error=self.engine.error,
            ),
            device=self.engine.device_info(),
            queue=QueueStatus(
                unfinished=scheduler.unfinished_count,
                processing=len(scheduler.processing_ids),
                max_queue_size=s.max_queue_size,
            ),
            batching=BatchingStatus(
                max_batch_items=s.max_batch_items,
                max_batch_frames=s.max_batch_frames,
                batches_run=batch.batches,
                chunks_run=batch.chunks,
                mean_batch_size=round(batch.mean_size, 3),
                max_batch_size_seen=batch.max_size,
                last_batch_size=batch.last_size,
                last_batch_jobs=batch.last_jobs,
                last_batch_seconds=round(batch.last_seconds, 4),
            ),
            jobs=self.stats(),
            text=self.text_status(),
        )

    def text_status(self) -> TextStatus:
        planner = self.jobs.planner
        frontend = planner.frontend
        transcripts = planner.transcripts
        return TextStatus(
            normalization_default=self.settings.text_normalization,
            normalizer=getattr(frontend, "mode", "unchecked"),
            vinorm_active=getattr(frontend, "vinorm_active", None),
            vinorm_error=getattr(frontend, "vinorm_error", None),
            lexicon_path=str(getattr(frontend, "lexicon_path", "")),
            auto_transcribe=transcripts.enabled if transcripts is not None else False,
            transcriber_model=transcripts.model if transcripts is not None else "",
            transcriber_loaded=transcripts.loaded if transcripts is not None else False,
        )

    async def cleanup(self) -> CleanupResponse:
        """Release cached GPU memory now (safe beside a running batch: only
        unused cached blocks are freed) and run the retention sweep."""
        before = self._gpu_reserved_mb()
        if self.engine.ready:
            await asyncio.to_thread(self.engine.release_memory)
        after = self._gpu_reserved_mb()
        report = await asyncio.to_thread(self.retention.sweep)
        return CleanupResponse(
            status="ok",
            message="memory released; retention sweep done",
            gpu_memory_before_mb=before,
            gpu_memory_after_mb=after,
            outputs_removed=report.files_removed,
        )

    def _gpu_reserved_mb(self) -> int | None:
        gpu = self.engine.device_info().get("gpu") if self.engine.ready else None
        return gpu["memory_reserved_mb"] if gpu else None
