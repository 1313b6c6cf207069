"""The app factory and its lifespan.

Start-up: open the job store, queue again the jobs a previous process left
unfinished, start serving HTTP at once (``/ping`` answers 204, ``/health``
503 while loading), load and warm the model in the background, then start the
scheduler. A load failure is logged with instructions and stops the server.

Shutdown (SIGTERM/SIGINT, via uvicorn): the running batch finishes (or stops
after GRACEFUL_SHUTDOWN_SECONDS), finished audio is written, every unfinished
job goes back to ``queued`` in the database for the next start.

Run with ``f5-tts-vi serve`` or ``uvicorn app.main:create_app --factory``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable

from fastapi import Depends, FastAPI

from app import __version__
from app.api.middleware import BodySizeLimitMiddleware, RequestMetricsMiddleware
from app.api.routes import downloads, normalize, openai, stream, system, tts, voices, ws
from app.core.config import Settings
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.security import require_api_key
from app.services.engine import EngineService
from app.services.job_store import JobStore
from app.services.jobs import JobService
from app.services.output_storage import OutputStorage
from app.services.planner import SynthesisPlanner
from app.services.retention import OutputRetention
from app.services.system import SystemService
from app.services.text_frontend import ServiceTextFrontend
from app.services.text_preview import TextPreview
from app.services.voice_audio import check_clip
from app.services.voice_library import InlineReferences, VoiceLibrary
from app.services.voice_service import VoiceService, clip_limits
from app.services.voice_transcripts import VoiceTranscripts
from app.services.webhooks import WebhookSender

logger = logging.getLogger("app.main")

DESCRIPTION = """\
Vietnamese text-to-speech (F5-TTS voice cloning) with a durable, batching job queue.

* `POST /tts` answers the WAV (sync, default) or, with `"async": true`, a job id to poll.
* Every request is a job: `/tts/status/{id}`, `/tts/progress/{id}`, `/output/{id}.wav`.
* Formats: `wav`, `flac`, `mp3`, `opus`, `pcm` at 16-48 kHz; `POST /tts/stream` and the
  WebSocket `/ws/tts` send audio while it is synthesized.
* OpenAI-compatible: `POST /v1/audio/speech` (the `openai` SDK with `base_url=.../v1`).
* With `API_KEY` set, send `Authorization: Bearer <key>` or `X-API-Key: <key>`
  (not needed for `/health`, `/ping` and these docs).
"""


def _request_process_exit() -> None:
    # uvicorn turns SIGTERM into a graceful shutdown.
    signal.raise_signal(signal.SIGTERM)


async def _bring_up(app: FastAPI) -> None:
    """Load the engine, warm it up, start the scheduler (all off the event loop)."""
    settings: Settings = app.state.settings
    engine: EngineService = app.state.engine
    jobs: JobService = app.state.jobs
    loop = asyncio.get_running_loop()
    try:
        # On the model thread: everything that touches the model happens there.
        await loop.run_in_executor(jobs.scheduler.gpu_executor, engine.load)
    except Exception:
        logger.error("engine.load_failed", extra={"help": engine.error})
        if settings.exit_on_load_failure:
            request_exit: Callable[[], None] = app.state.request_exit or _request_process_exit
            request_exit()
        return
    # The Vinorm check (started with the lifespan) decides the normalizer the warm-up uses.
    await app.state.frontend_check
    if settings.warmup:
        try:
            seconds = await loop.run_in_executor(jobs.scheduler.gpu_executor, jobs.warm_up)
            logger.info("engine.warm", extra={"seconds": round(seconds, 3)})
        except Exception as exc:
            # A broken default voice must not keep the service down: requests naming
            # other voices still work, and this one gets a clear error per request.
            logger.warning("engine.warmup_failed", extra={"error": f"{type(exc).__name__}: {exc}"})
    engine.mark_ready()
    app.state.metrics.model_ready.set(1)
    jobs.start()
    logger.info("service.ready")


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    metrics: Metrics = app.state.metrics
    store = JobStore(settings.database_path)
    engine = EngineService(settings)
    voices = VoiceLibrary(
        settings.voices_dir, settings.default_voice, allow_delete_default=settings.allow_delete_default_voice
    )
    # The text front-end (docs/text-frontend.md): Vinorm is checked in the background; if it
    # cannot run here, normalization goes on with our rules only (logged, shown by /status).
    frontend = ServiceTextFrontend.from_settings(settings)
    app.state.frontend_check = asyncio.create_task(asyncio.to_thread(frontend.check), name="vinorm-check")
    transcripts = VoiceTranscripts.from_settings(settings, lambda: engine.device)
    limits = clip_limits(settings)
    inline = InlineReferences(
        settings.data_dir / "references",
        settings.inline_reference_ttl_seconds,
        lambda data: check_clip(data, limits, what="ref_audio_base64"),
    )
    planner = SynthesisPlanner(engine, voices, frontend, transcripts, inline)
    storage = OutputStorage(settings.output_dir)
    webhooks = WebhookSender(settings, store, metrics)
    await webhooks.start()
    jobs = JobService(settings, store, engine, planner, storage, webhooks, metrics)
    retention = OutputRetention(settings, store, storage, metrics)
    app.state.engine = engine
    app.state.jobs = jobs
    # Transcription runs on the model's thread: the two models never run at once.
    transcripts.attach_gpu_executor(jobs.scheduler.gpu_executor)
    app.state.voice_service = VoiceService(settings, voices, planner, transcripts)
    app.state.text_preview = TextPreview(settings, engine, planner, frontend)
    app.state.system = SystemService(settings, engine, jobs, voices, retention)

    recovered = jobs.recover()
    logger.info(
        "service.starting",
        extra={"version": __version__, "demo": settings.demo, "recovered_jobs": recovered, "port": settings.port},
    )
    bring_up = asyncio.create_task(_bring_up(app), name="bring-up")
    retention_task = asyncio.create_task(retention.run(), name="retention")
    try:
        yield
    finally:
        logger.info("service.stopping")
        retention_task.cancel()
        if not bring_up.done():
            bring_up.cancel()
        await jobs.shutdown()
        await webhooks.stop()
        store.close()
        logger.info("service.stopped")


def create_app(settings: Settings | None = None, request_exit: Callable[[], None] | None = None) -> FastAPI:
    """``request_exit``: how a fatal start-up error stops the server (the CLI passes
    uvicorn's should_exit switch); by default the process sends itself SIGTERM."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    app = FastAPI(
        title="F5-TTS Vietnamese",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.request_exit = request_exit
    install_error_handlers(app)
    # Added last = outermost: metrics see every answer, including 413s.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # Voice uploads (multipart) may be larger than JSON bodies.
        path_limits={"/voices": max(settings.max_body_bytes, settings.voice_max_upload_bytes + 65_536)},
    )
    app.add_middleware(RequestMetricsMiddleware, metrics=app.state.metrics)

    app.include_router(system.public_router)
    protected = [Depends(require_api_key)]
    app.include_router(tts.router, dependencies=protected)
    app.include_router(downloads.router, dependencies=protected)
    app.include_router(system.router, dependencies=protected)
    app.include_router(voices.router, dependencies=protected)
    app.include_router(normalize.router, dependencies=protected)
    app.include_router(stream.router, dependencies=protected)
    app.include_router(openai.router, dependencies=protected)
    app.include_router(ws.router)  # checks the API key itself, at the handshake (close code 1008)
    return app
