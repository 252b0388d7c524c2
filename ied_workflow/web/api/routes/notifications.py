"""/api/v1/notifications: alert deliveries per channel, for admins."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from ied_workflow.web.api.dependencies import AsAdmin
from ied_workflow.web.api.routes import PREFIX
from ied_workflow.web.api.schemas import NotificationOut, NotificationPage

router = APIRouter(prefix=PREFIX, tags=["operations"])
DeliveryStatus = Literal["pending", "sent", "failed"]


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
