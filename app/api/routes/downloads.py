"""Downloading results and confirming downloads (the RunPod flow)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response

from app.api.deps import JobIdDep, JobsDep
from app.models.errors import error_responses
from app.models.tts import CheckDownloadResponse, ConfirmDownloadResponse

router = APIRouter(tags=["downloads"])


_AUDIO_CONTENT = {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in ("audio/wav", "audio/flac", "audio/mpeg", "audio/ogg", "audio/pcm")
}


@router.api_route(
    "/output/{filename}",
    methods=["GET", "HEAD"],
    summary="Download a generated file: X.wav (or the job's format), any other format by its extension",
    response_class=FileResponse,
    responses={
        200: {"content": _AUDIO_CONTENT},
        206: {"description": "partial content (Range request on the stored file)"},
        **error_responses(400, 401, 404, 409, 410),
    },
)
async def download(
    filename: str,
    jobs: JobsDep,
    sample_rate: Annotated[
        int | None,
        Query(description="resample to 16000, 22050, 24000, 44100 or 48000 (default: the file's rate)"),
    ] = None,
) -> Response:
    """The audio of job X is stored as `X.<ext>` of the format it was requested in (`X.wav` by
    default) and sent as is (Range and HEAD work). Asking for `X.mp3`, `X.opus`, `X.flac`,
    `X.pcm` or `X.wav` when the job was stored in another format, or adding `?sample_rate=`,
    converts the stored audio on the fly (header `X-Sample-Rate` says the rate)."""
    result = await jobs.download(filename, sample_rate)
    if result.path is not None:
        return FileResponse(
            result.path,
            media_type=result.media_type,
            filename=result.filename,
            content_disposition_type="inline",
            headers={"X-Sample-Rate": str(result.sample_rate)} if result.sample_rate else None,
        )
    assert result.data is not None
    return Response(
        result.data,
        media_type=result.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{result.filename}"',
            "X-Sample-Rate": str(result.sample_rate),
        },
    )


@router.post(
    "/confirm-download/{job_id}",
    response_model=ConfirmDownloadResponse,
    summary="The client has downloaded the audio",
    responses=error_responses(400, 401, 404, 409),
)
async def confirm_download(job_id: JobIdDep, jobs: JobsDep) -> ConfirmDownloadResponse:
    """No body needed. Retention removes the audio CONFIRMED_RETENTION_SECONDS later (default 10 min)."""
    return jobs.confirm_download(job_id)


@router.get(
    "/check-download/{job_id}",
    response_model=CheckDownloadResponse,
    summary="Has the client confirmed the download?",
    responses=error_responses(400, 401, 404),
)
async def check_download(job_id: JobIdDep, jobs: JobsDep) -> CheckDownloadResponse:
    return jobs.check_download(job_id)
