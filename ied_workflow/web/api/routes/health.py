"""/healthz, /readyz and /metrics: for orchestrators and Prometheus, without a token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ied_workflow.web.api.dependencies import WorkflowDep
from ied_workflow.web.api.schemas import Health
from ied_workflow.web.process import in_thread

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (touches nothing else, so no thread)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"description": "No database"}})
async def readyz(wf: WorkflowDep) -> Health:
    """The database answers; 503 (problem+json) when it does not."""
    await in_thread(wf.ping)
    return Health(status="ready")


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text: follow-ups by status, overdue, delivery backlog, request latency."""
    body = await in_thread(generate_latest, request.app.state.metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
