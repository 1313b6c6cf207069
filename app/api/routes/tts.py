"""Synthesis: submit (sync or async), status, progress, cancel."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse

from app.api.deps import JobIdDep, JobsDep
from app.core.errors import error_from_code
from app.models.errors import error_responses
from app.models.jobs import JobStatus
from app.models.tts import JobProgressResponse, JobStatusResponse, KillResponse, TTSAccepted, TTSRequest

router = APIRouter(tags=["tts"])


@router.post(
    "/tts",
    summary="Synthesize speech (sync WAV by default, or async)",
    response_model=None,
    responses={
        200: {
            "model": TTSAccepted,
            "description": "The audio in `format` (sync, the default; headers `X-Job-Id`, `X-Audio-Duration`, "
            '`X-Processing-Time`, `X-Sample-Rate`), or with `"async": true` the queued job (JSON)',
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("audio/wav", "audio/flac", "audio/mpeg", "audio/ogg", "audio/pcm")
            },
        },
        **error_responses(400, 401, 404, 409, 413, 422, 429, 500, 503, 504),
    },
)
async def tts(request: TTSRequest, jobs: JobsDep) -> FileResponse | JSONResponse:
    """Every accepted request is recorded as a job (id in `X-Job-Id` for sync answers), so
    `/tts/status`, `/tts/progress` and `/output/<job_id>.<ext>` work for both modes. A `job_id`
    that already exists is answered with that job and never synthesized twice. `format` (wav,
    flac, mp3, opus, pcm) and `sample_rate` (16000-48000, default 24000) choose the output;
    `POST /tts/stream` sends the audio while it is being synthesized."""
    submission = await jobs.submit(request)
    record = submission.record
    if request.async_:
        body = TTSAccepted(
            request_id=record.id,
            job_id=record.id,
            status=record.status,
            queue_position=submission.queue_position,
            duplicate=submission.duplicate,
            status_url=f"/tts/status/{record.id}",
            progress_url=f"/tts/progress/{record.id}",
            download_url=jobs.download_url(jobs.storage.filename_for(record.id, record.params.format)),
        )
        return JSONResponse(body.model_dump(mode="json"))
    record = await jobs.wait(record.id)
    if record.status is not JobStatus.completed:
        raise error_from_code(record.error_code or "synthesis_failed", record.error_message or "job did not complete")
    assert record.output_filename is not None
    path, media_type = jobs.output_file(record.output_filename)
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "X-Job-Id": record.id,
            "X-Request-Id": record.id,
            "X-Duplicate": "true" if submission.duplicate else "false",
            "X-Sample-Rate": str(record.sample_rate),
            "X-Audio-Duration": f"{record.duration or 0.0:.3f}",
            "X-Processing-Time": f"{record.processing_time or 0.0:.3f}",
        },
    )


@router.get(
    "/tts/status/{job_id}",
    response_model=JobStatusResponse,
    summary="Status and result of a job",
    responses=error_responses(400, 401, 404),
)
async def job_status(job_id: JobIdDep, jobs: JobsDep) -> JobStatusResponse:
    return jobs.describe(jobs.get(job_id))


@router.get(
    "/tts/progress/{job_id}",
    response_model=JobProgressResponse,
    summary="Progress of a job (percent of ODE steps done, ETA)",
    responses=error_responses(400, 401, 404),
)
async def job_progress(job_id: JobIdDep, jobs: JobsDep) -> JobProgressResponse:
    return jobs.progress(job_id)


def _kill(job_id: str, jobs: JobsDep) -> KillResponse:
    record, cancelled_now = jobs.cancel(job_id)
    return KillResponse(
        job_id=record.id,
        status=record.status,
        cancelled=True,
        message="job cancelled" if cancelled_now else "job was already cancelled",
    )


@router.post(
    "/tts/kill/{job_id}",
    response_model=KillResponse,
    summary="Cancel a queued or running job",
    responses=error_responses(400, 401, 404, 409),
)
async def kill_job(job_id: JobIdDep, jobs: JobsDep) -> KillResponse:
    """A running job stops at the next ODE step; other jobs in its batch go on untouched.
    A job that already completed or failed answers 409."""
    return _kill(job_id, jobs)


@router.delete(
    "/tts/{job_id}",
    response_model=KillResponse,
    summary="Cancel a job (same as POST /tts/kill/{job_id})",
    responses=error_responses(400, 401, 404, 409),
)
async def delete_job(job_id: JobIdDep, jobs: JobsDep) -> KillResponse:
    return _kill(job_id, jobs)
