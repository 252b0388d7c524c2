"""/notifications (admins): failed alert deliveries, their errors, and a Retry button."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse

from ied_workflow import links
from ied_workflow.web.console import session
from ied_workflow.web.console.pages import PageRoute, render
from ied_workflow.workflow import Workflow

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SHOWN = 200


@router.get(links.NOTIFICATIONS)
async def failed(request: Request, visit: session.Admin) -> Response:
    """The failed deliveries, newest first."""
    wf: Workflow = request.app.state.workflow
    who, rows = await visit.together(
        lambda who, uow: (who, wf.notifications("failed", limit=SHOWN))
    )
    return render(request, "notifications.html.j2", who=who, rows=rows, shown=SHOWN)


@router.post(links.NOTIFICATIONS + "/{id}/retry")
async def retry(
    request: Request,
    delivery_id: Annotated[int, Path(alias="id", ge=1, le=2**63 - 1)],
    visit: session.AdminForm,
) -> Response:
    """Put one failed delivery back in line; the next dispatch sends it."""
    wf: Workflow = request.app.state.workflow
    await visit.together(lambda who, uow: wf.retry_notification(delivery_id))
    session.flash(request, f"Delivery {delivery_id} is queued for another attempt.")
    return RedirectResponse(links.NOTIFICATIONS, status_code=303)
