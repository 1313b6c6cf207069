"""Health, readiness, status, metrics and cleanup (voices: voices.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import MetricsDep, SystemDep
from app.models.errors import error_responses
from app.models.system import CleanupResponse, HealthResponse, PingResponse, StatusResponse

# No API key on these two: load balancers and container health checks call them.
public_router = APIRouter(tags=["health"])
router = APIRouter()


@public_router.get(
    "/health",
    response_model=HealthResponse,
    summary="Liveness and queue statistics",
    responses={503: {"model": HealthResponse, "description": "model loading or failed to load"}},
)
async def health(system: SystemDep, response: Response) -> HealthResponse:
    """`status` is `ok` once the model is loaded (503 while loading, so `curl -f /health` works as a
    container health check). Answers in milliseconds even while a batch runs."""
    body = system.health()
    if body.status != "ok":
        response.status_code = 503
    return body


@public_router.get(
    "/ping",
    response_model=PingResponse,
    summary="Readiness for the RunPod load balancer",
    responses={204: {"description": "still loading the model"}, 503: {"description": "the model failed to load"}},
)
async def ping(system: SystemDep) -> Response:
    """200 `{"status": "healthy"}` when ready, 204 (no body) while the model loads, 503 if loading failed."""
    state = system.health().status
    if state == "loading":
        return Response(status_code=204)
    if state != "ok":
        return Response(content=b'{"status":"unhealthy"}', status_code=503, media_type="application/json")
    return Response(content=b'{"status":"healthy"}', media_type="application/json")


@router.get(
    "/status",
    response_model=StatusResponse,
    tags=["health"],
    summary="Server, model, GPU and queue state",
    responses=error_responses(401),
)
async def status(system: SystemDep) -> StatusResponse:
    return system.status()


@router.get(
    "/metrics",
    tags=["health"],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"example": "tts_queue_depth 3.0\n"}}}, **error_responses(401)},
)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(content=metrics.render(), media_type=metrics.content_type)


@router.post(
    "/cleanup",
    response_model=CleanupResponse,
    tags=["health"],
    summary="Free GPU memory now",
    responses=error_responses(401),
)
async def cleanup(system: SystemDep) -> CleanupResponse:
    """Releases cached GPU memory (as the old endpoint did) and runs the output retention sweep."""
    return await system.cleanup()
