"""Dependencies the routers use: the services, taken from the app's state."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Path, Request

from app.core.config import Settings
from app.core.errors import InvalidNameError
from app.core.metrics import Metrics
from app.models.tts import JOB_ID_PATTERN
from app.services.jobs import JobService
from app.services.system import SystemService

_JOB_ID = re.compile(JOB_ID_PATTERN)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_jobs(request: Request) -> JobService:
    return request.app.state.jobs


def get_system(request: Request) -> SystemService:
    return request.app.state.system


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def valid_job_id(job_id: Annotated[str, Path(description="the job id (request_id)", examples=["test_job_001"])]) -> str:
    if not _JOB_ID.fullmatch(job_id):
        raise InvalidNameError(f"invalid job id: {job_id!r}")
    return job_id


SettingsDep = Annotated[Settings, Depends(get_settings)]
JobsDep = Annotated[JobService, Depends(get_jobs)]
SystemDep = Annotated[SystemService, Depends(get_system)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
JobIdDep = Annotated[str, Depends(valid_job_id)]
