"""/api/v1/follow-ups: open one, list them with the dashboard filters, read one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from ied_workflow.domain import FollowUp, Status
from ied_workflow.follow_ups.queries import Filter
from ied_workflow.web import page_cursors
from ied_workflow.web.api import bodies
from ied_workflow.web.api.dependencies import AsOperator, AsViewer
from ied_workflow.web.api.routes import PREFIX
from ied_workflow.web.api.schemas import (
    ID_PATTERN,
    CreateFollowUp,
    FollowUpOut,
    FollowUpPage,
    HistoryOut,
)

router = APIRouter(prefix=f"{PREFIX}/follow-ups", tags=["follow-ups"])
FollowUpId = Annotated[int, Path(alias="id", ge=1, le=2**63 - 1)]
MAX_PAGE = 500


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FollowUpOut)
async def create(body: CreateFollowUp, request: Request, act: AsOperator) -> Response:
    """Open the one follow-up of a delivered lead; a second one is 409 naming the first."""
    follow_up = await act(
        lambda wf, who: wf.create(body.lead_id, by=who.email, due_at=body.due_at, notes=body.notes)
    )
    location = {"Location": _location(request, follow_up.id)}
    return bodies.answer(follow_up, status.HTTP_201_CREATED, location)


def _location(request: Request, follow_up_id: int) -> str:
    """Absolute under IED_BASE_URL when it is set, else a path (RFC 9110 allows both)."""
    path = f"{PREFIX}/follow-ups/{follow_up_id}"
    base = request.app.state.workflow.settings.base_url
    return f"{base.rstrip('/')}{path}" if base else path


@router.get("", response_model=FollowUpPage)
async def find(
    request: Request,
    act: AsViewer,
    statuses: Annotated[list[Status], Query(alias="status")] = [],  # noqa: B006
    due_today: Annotated[bool, Query(alias="dueToday")] = False,
    overdue: bool = False,
    has_issue: Annotated[bool, Query(alias="hasIssue")] = False,
    open_issue: Annotated[bool, Query(alias="openIssue")] = False,
    installer_id: Annotated[str | None, Query(alias="installerId", pattern=ID_PATTERN)] = None,
    lead_id: Annotated[str | None, Query(alias="leadId", pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Follow-ups matching every filter, soonest due first, a page at a time."""
    where = Filter.of(
        statuses=statuses,
        due_today=due_today,
        overdue=overdue,
        has_issue=has_issue,
        open_issue=open_issue,
        installer_id=installer_id,
        lead_id=lead_id,
    )
    key = request.app.state.cursor_key
    after = None if cursor is None else page_cursors.keyset(cursor, key)
    # One more than the page tells whether a page follows.
    rows = await act(lambda wf, who: wf.find(where, limit=limit + 1, after=after))
    items = [bodies.follow_up_json(row) for row in rows[:limit]]
    return bodies.json_response({"items": items, "nextCursor": _next(rows, limit, key)})


def _next(rows: list[FollowUp], limit: int, key: bytes) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return page_cursors.cursor(last.due_at, last.id, key)


@router.get("/{id}", response_model=FollowUpOut)
async def get(follow_up_id: FollowUpId, act: AsViewer) -> Response:
    """One follow-up; its ETag is the version an action's If-Match names."""
    return bodies.answer(await act(lambda wf, who: wf.get(follow_up_id)))


@router.get("/{id}/history", response_model=HistoryOut)
async def history(follow_up_id: FollowUpId, act: AsViewer) -> HistoryOut:
    """The audit events and the contact attempts, oldest first."""
    events, attempts = await act(lambda wf, who: wf.history(follow_up_id))
    return HistoryOut.model_validate({"events": events, "attempts": attempts})
