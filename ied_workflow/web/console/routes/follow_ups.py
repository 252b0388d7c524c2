"""/follow-ups, the filtered list (keyset pages), and /follow-ups/{id}, the detail page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from ied_workflow import links
from ied_workflow.accounts.records import Principal
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import FollowUp, Role, Status
from ied_workflow.follow_ups.queries import COUNT_CAP, Filter
from ied_workflow.web import page_cursors
from ied_workflow.web.console import forms, session, wording
from ied_workflow.web.console.pages import PageRoute, render
from ied_workflow.web.console.times import formatter
from ied_workflow.web.count_cache import CountCache, Counted
from ied_workflow.workflow import Workflow

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE = 50
FollowUpId = Annotated[int, Path(alias="id", ge=1, le=2**63 - 1)]


@router.get(links.FOLLOW_UPS)
async def listing(
    request: Request,
    visit: session.Viewer,
    statuses: Annotated[list[Status], Query(alias="status")] = [],  # noqa: B006
    due_today: Annotated[bool, Query(alias="dueToday")] = False,
    overdue: bool = False,
    has_issue: Annotated[bool, Query(alias="hasIssue")] = False,
    open_issue: Annotated[bool, Query(alias="openIssue")] = False,
    installer_id: Annotated[str, Query(alias="installerId", max_length=64)] = "",
    lead_id: Annotated[str, Query(alias="leadId", max_length=64)] = "",
    no_contact_days: Annotated[float | None, Query(alias="noContactDays", gt=0, le=3650)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Follow-ups matching every filter in the query string, soonest due first."""
    where = Filter.of(
        statuses=statuses,
        due_today=due_today,
        overdue=overdue,
        has_issue=has_issue,
        open_issue=open_issue,
        installer_id=installer_id,
        lead_id=lead_id,
        no_contact_days=no_contact_days,
    )
    query: dict[str, Any] = {
        "status": [s.value for s in statuses],
        "dueToday": _flag(due_today),
        "overdue": _flag(overdue),
        "hasIssue": _flag(has_issue),
        "openIssue": _flag(open_issue),
        "installerId": where.installer_id or "",
        "leadId": where.lead_id or "",
        "noContactDays": "" if no_contact_days is None else f"{no_contact_days:g}",
    }
    wf: Workflow = request.app.state.workflow
    key = request.app.state.cursor_key
    after = None if cursor is None else page_cursors.keyset(cursor, key)

    snapshots: CountCache = request.app.state.list_counts

    def read(
        who: Principal, uow: UnitOfWork
    ) -> tuple[Principal, datetime, list[FollowUp], Counted]:
        """One transaction for the page, the session's user read in it; one more row than
        shown tells if a page follows.

        A first page that holds every match shows their number, live. A longer list's
        total is the process's shared count of its filter, as the dashboard's are: up to
        IED_DASHBOARD_COUNTS_SECONDS old, and the page says when it was counted.
        """
        rows = wf.find(where, limit=PAGE + 1, after=after)  # at uow.now, the page's instant
        if after is None and len(rows) <= PAGE:
            return who, uow.now, rows, Counted(uow.now, {"list": len(rows)})
        zone = wf.settings.zone
        return who, uow.now, rows, snapshots.counts(uow.now, {"list": where}, zone, cap=COUNT_CAP)

    who, now, rows, counted = await visit.together(read)
    following = None
    if len(rows) > PAGE:
        last = rows[PAGE - 1]
        following = links.listing(**query, cursor=page_cursors.cursor(last.due_at, last.id, key))
    return render(
        request,
        "list.html.j2",
        who=who,
        now=now,
        rows=rows[:PAGE],
        query=query,
        statuses=list(Status),
        # the rows read are live matches: a shared count taken before some of them never
        # says fewer than the page shows
        total=max(counted.counts["list"], len(rows)),
        counted_at=None if counted.at == now else counted.at,
        cap=COUNT_CAP,
        following=following,
        first=links.listing(**query) if cursor else None,
    )


def _flag(value: bool) -> str:
    return "true" if value else ""


@router.get(links.FOLLOW_UPS + "/{id}")
async def detail(request: Request, follow_up_id: FollowUpId, visit: session.Viewer) -> Response:
    """Every contract field, the contact timeline, the audit history, the allowed forms."""
    return await detail_page(request, follow_up_id, visit)


async def detail_page(
    request: Request, follow_up_id: int, visit: session.Visit, *, error: str = "", status: int = 200
) -> Response:
    """The detail page as it stands now; actions render it again with their refusal."""
    wf: Workflow = request.app.state.workflow
    who, now, follow_up, (events, attempts) = await visit.together(
        lambda who, uow: (who, uow.now, wf.get(follow_up_id), wf.history(follow_up_id))
    )
    zone = wf.settings.zone
    fmt = formatter(zone)

    return render(
        request,
        "detail.html.j2",
        status=status,
        who=who,
        fu=follow_up,
        now=now,
        history=wording.history_lines(events, fmt),
        attempts=wording.attempt_lines(attempts, fmt),
        error=error,
        forms=_forms(follow_up, who),
        yes_no=wording.yes_no,
        local_input=lambda moment: forms.local_input(moment, zone),
    )


def _forms(follow_up: FollowUp, who: Principal) -> list[forms.ActionForm]:
    """Viewers get none; others get the forms of what the machine allows now."""
    return forms.allowed_forms(follow_up) if who.may(Role.OPERATOR) else []
