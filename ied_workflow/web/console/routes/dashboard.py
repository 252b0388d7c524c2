"""/, the dashboard: what needs attention today, and a count per filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response

from ied_workflow import links
from ied_workflow.domain import FollowUp, Status
from ied_workflow.queries import COUNT_CAP, Filter
from ied_workflow.web.console import session
from ied_workflow.web.console.pages import PageRoute, render
from ied_workflow.workflow import Workflow

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SHOWN = 8  # rows per section; the section's link opens the full list


@dataclass(frozen=True, slots=True)
class Tile:
    """One dashboard filter: its count and the list it opens."""

    label: str
    count: int
    url: str
    tone: str  # the CSS accent: what kind of attention it asks for


@dataclass(frozen=True, slots=True)
class Section:
    """One "needs attention" list on the dashboard."""

    title: str
    empty: str
    rows: list[FollowUp]
    count: int
    url: str


TILES = [  # (label, dashboard count key, list query, tone)
    ("Overdue", "overdue", {"overdue": "true"}, "danger"),
    ("Due today", "due_today", {"dueToday": "true"}, "warn"),
    ("Pending", "pending", {"status": "pending"}, "plain"),
    ("In progress", "in_progress", {"status": "in_progress"}, "info"),
    ("Completed", "completed", {"status": "completed"}, "ok"),
    ("Closed with an issue", "closed_with_issue", {"status": "closed_with_issue"}, "plain"),
    ("Has an issue", "has_issue", {"hasIssue": "true"}, "plain"),
    ("Open issues", "open_issue", {"openIssue": "true"}, "danger"),
]


@router.get(links.DASHBOARD)
def dashboard(request: Request, who: session.Viewer) -> Response:
    """Counts first, then the four lists a morning starts with."""
    wf: Workflow = request.app.state.workflow
    now = wf.now()  # one instant for the whole page, so its lists and counts agree
    counts = wf.dashboard(now, cap=COUNT_CAP)
    tiles = [
        Tile(label, counts[key], links.listing(**query), tone) for label, key, query, tone in TILES
    ]
    return render(
        request,
        "dashboard.html.j2",
        who=who,
        now=now,
        tiles=tiles,
        sections=_sections(wf, now, counts),
        cap=COUNT_CAP,
    )


def _sections(wf: Workflow, now: datetime, counts: dict[str, int]) -> list[Section]:
    days = wf.settings.stale_contact_days
    due_today, overdue = counts["due_today"], counts["overdue"]
    later_today = due_today - overdue if due_today <= COUNT_CAP else COUNT_CAP + 1
    quiet_days = f"{days:g}"
    return [
        _section(
            wf,
            now,
            "Overdue, oldest first",
            "Nothing is overdue.",
            Filter(overdue=True),
            {"overdue": "true"},
        ),
        _section(
            wf,
            now,
            "Due later today",
            "Nothing else is due today.",
            Filter(due=True),
            {"dueToday": "true"},
            after=(now, 0),  # from now on: the overdue ones have their own section
            total=later_today,
        ),
        _section(
            wf,
            now,
            f"In progress, no contact for {quiet_days} days",
            "Every follow-up in progress was worked recently.",
            Filter(statuses=(Status.IN_PROGRESS,), no_contact_days=days),
            {"status": "in_progress", "noContactDays": quiet_days},
        ),
        _section(
            wf,
            now,
            "Closed with an issue still open",
            "No open customer issue.",
            Filter(statuses=(Status.CLOSED_WITH_ISSUE,), open_issue=True),
            {"status": "closed_with_issue", "openIssue": "true"},
        ),
    ]


def _section(
    wf: Workflow,
    now: datetime,
    title: str,
    empty: str,
    where: Filter,
    query: dict[str, str],
    after: tuple[datetime, int] | None = None,
    total: int | None = None,
) -> Section:
    """Up to SHOWN rows soonest due first (for overdue, that is oldest first), and how
    many there are in all (counted only when the section is full, and capped)."""
    rows = wf.find(where, now, limit=SHOWN, after=after)
    if total is None:
        total = len(rows) if len(rows) < SHOWN else wf.count(where, now, cap=COUNT_CAP)
    return Section(title, empty, rows, total, links.listing(**query))
