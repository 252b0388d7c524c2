"""/api/v1/dashboard for everyone; /api/v1/notifications for admins."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic.alias_generators import to_camel

from ied_workflow.queries import COUNT_CAP
from ied_workflow.web.auth import AsAdmin, AsViewer
from ied_workflow.web.routers import PREFIX
from ied_workflow.web.schemas import DashboardOut, NotificationOut, NotificationPage
from ied_workflow.web.snapshot import CountSnapshots

router = APIRouter(prefix=PREFIX, tags=["operations"])
DeliveryStatus = Literal["pending", "sent", "failed"]


@router.get("/dashboard", response_model=DashboardOut)
async def dashboard(request: Request, act: AsViewer) -> DashboardOut:
    """How many follow-ups each dashboard filter holds, each count stopping past COUNT_CAP
    as the console's do (an exact count of 700,000 completed ones took seconds), from the
    process's snapshot of the counts (`web/snapshot.py`), which says when it was taken."""
    snapshots: CountSnapshots = request.app.state.count_snapshots
    zone, cap = request.app.state.workflow.settings.zone, COUNT_CAP
    counted = await act(lambda wf, who: snapshots.dashboard(wf.now(), zone, cap=cap))
    capped = [to_camel(name) for name, count in counted.counts.items() if count > cap]
    exact = {name: min(count, cap) for name, count in counted.counts.items()}
    return DashboardOut.model_validate(
        {**exact, "count_cap": cap, "capped": capped, "counted_at": counted.at}
    )


@router.get("/notifications", response_model=NotificationPage)
async def notifications(
    act: AsAdmin,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationPage:
    """Alert deliveries per channel, newest first (`status=failed`: what needs a retry)."""
    rows = await act(lambda wf, who: wf.notifications(delivery_status, limit=limit))
    return NotificationPage(items=[NotificationOut.model_validate(row) for row in rows])


@router.post(
    "/notifications/{id}/retry", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
async def retry(
    delivery_id: Annotated[int, Path(alias="id", ge=1, le=2**63 - 1)], act: AsAdmin
) -> Response:
    """Put a failed delivery back in line for an immediate attempt."""
    await act(lambda wf, who: wf.retry_notification(delivery_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
