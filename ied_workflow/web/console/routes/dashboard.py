"""/, the dashboard: what needs attention today, and a count per filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from ied_workflow import links
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import FollowUp, Status
from ied_workflow.follow_ups import queries
from ied_workflow.follow_ups.queries import COUNT_CAP, Filter
from ied_workflow.web.console import session
from ied_workflow.web.console.pages import PageRoute, render
from ied_workflow.web.count_cache import CountCache, Counted
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
async def dashboard(request: Request, visit: session.Viewer) -> Response:
    """Counts first, then the four lists a morning starts with."""
    wf: Workflow = request.app.state.workflow
    page = _Reader(
        wf.settings.zone, wf.settings.stale_contact_days, request.app.state.count_snapshots
    )
    # One transaction for the whole page: one instant for its lists, one pool checkout,
    # one BEGIN and COMMIT instead of one per count and list.
    # The session's user is read in it too.
    who, (now, counted, sections) = await visit.together(lambda who, uow: (who, page.read(uow)))
    tiles = [
        Tile(label, counted.counts[key], links.listing(**query), tone)
        for label, key, query, tone in TILES
    ]
    return render(
        request,
        "dashboard.html.j2",
        who=who,
        now=now,
        counted_at=counted.at,
        tiles=tiles,
        sections=sections,
        cap=COUNT_CAP,
    )


@dataclass(frozen=True, slots=True)
class _Reader:
    """Reads the page's counts and sections in the caller's unit of work."""

    zone: ZoneInfo
    days: float
    snapshots: CountCache

    def read(self, uow: UnitOfWork) -> tuple[datetime, Counted, list[Section]]:
        """Every count from the process's snapshots (maybe seconds old); the rows live.

        The counted instant returned is the older of the tiles' and the lists' counts.
        """
        now = uow.now
        counted = self.snapshots.dashboard(now, self.zone, cap=COUNT_CAP)
        quiet = self.snapshots.counts(now, self._quiet_filters(), self.zone, cap=COUNT_CAP)
        counts = counted.counts | quiet.counts
        at = min(counted.at, quiet.at)
        return now, Counted(at, counts), self._sections(uow.conn, now, counts)

    def _quiet_filters(self) -> dict[str, Filter]:
        """The lists that have no tile of their own: their totals are counted here."""
        return {
            "quiet": Filter(statuses=(Status.IN_PROGRESS,), no_contact_days=self.days),
            "open_closed": Filter(statuses=(Status.CLOSED_WITH_ISSUE,), open_issue=True),
        }

    def _sections(self, conn: Connection, now: datetime, counts: dict[str, int]) -> list[Section]:
        due_today, overdue = counts["due_today"], counts["overdue"]
        later_today = due_today - overdue if due_today <= COUNT_CAP else COUNT_CAP + 1
        quiet, open_closed = self._quiet_filters().values()
        quiet_days = f"{self.days:g}"
        return [
            self._section(
                conn,
                now,
                "Overdue, oldest first",
                "Nothing is overdue.",
                Filter(overdue=True),
                {"overdue": "true"},
                total=overdue,  # the tile's count: the same filter
            ),
            self._section(
                conn,
                now,
                "Due later today",
                "Nothing else is due today.",
                Filter(due=True),
                {"dueToday": "true"},
                after=(now, 0),  # from now on: the overdue ones have their own section
                total=later_today,
            ),
            self._section(
                conn,
                now,
                f"In progress, no contact for {quiet_days} days",
                "Every follow-up in progress was worked recently.",
                quiet,
                {"status": "in_progress", "noContactDays": quiet_days},
                total=counts["quiet"],
            ),
            self._section(
                conn,
                now,
                "Closed with an issue still open",
                "No open customer issue.",
                open_closed,
                {"status": "closed_with_issue", "openIssue": "true"},
                total=counts["open_closed"],
            ),
        ]

    def _section(
        self,
        conn: Connection,
        now: datetime,
        title: str,
        empty: str,
        where: Filter,
        query: dict[str, str],
        total: int,
        after: tuple[datetime, int] | None = None,
    ) -> Section:
        """Up to SHOWN rows soonest due first (for overdue, that is oldest first), and how
        many there are in all: the rows when they all fit, else `total` (a shared count,
        which may be seconds old: never fewer than the rows shown)."""
        rows = queries.find(conn, where, now, self.zone, limit=SHOWN, after=after)
        total = len(rows) if len(rows) < SHOWN else max(total, SHOWN)
        return Section(title, empty, rows, total, links.listing(**query))
