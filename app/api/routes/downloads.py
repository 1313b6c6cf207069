"""Downloading results and confirming downloads (the RunPod flow)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.api.deps import JobIdDep, JobsDep
from app.models.errors import error_responses
from app.models.tts import CheckDownloadResponse, ConfirmDownloadResponse

router = APIRouter(tags=["downloads"])


@router.api_route(
    "/output/{filename}",
    methods=["GET", "HEAD"],
    summary="Download a generated file (the audio of job X is X.wav; Range requests work)",
    response_class=FileResponse,
    responses={
        200: {"content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}},
        206: {"description": "partial content (Range request)"},
        **error_responses(400, 401, 404, 409, 410),
    },
)
async def download(filename: str, jobs: JobsDep) -> FileResponse:
    path, media_type = jobs.output_file(filename)
    return FileResponse(path, media_type=media_type, filename=path.name, content_disposition_type="inline")


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
