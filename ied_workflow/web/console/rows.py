"""A follow-up as one row of a console table: every text of the row computed once, in Python.

A template calling a helper per cell (`Context.call`), and a macro per status badge,
was about a fifth of a list page's CPU. The texts stay plain strings: the template
escapes them like any other value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ied_workflow import labels, links
from ied_workflow.domain import FollowUp, Status
from ied_workflow.web.console.times import Formatter


@dataclass(frozen=True, slots=True)
class Row:
    """What one table row shows."""

    id: int
    href: str
    lead_id: str
    installer: str
    status: str
    resolved: bool  # a closed issue handled since: the badge says so
    status_label: str
    late: bool
    due_iso: str
    due: str
    timing: str
    attempts: int
    contacted: str  # when the customer was last contacted, '' if never
    outcome: str


def table_rows(rows: Iterable[FollowUp], now: datetime, fmt: Formatter) -> list[Row]:
    """The rows of a table at the page's instant `now`."""
    return [_row(fu, now, fmt) for fu in rows]


def _row(fu: FollowUp, now: datetime, fmt: Formatter) -> Row:
    contacted = fmt.when(fu.last_contacted_at) if fu.last_contacted_at else ""
    return Row(
        id=fu.id,
        href=links.follow_up(fu.id),
        lead_id=fu.lead_id,
        installer=fu.installer_id or "—",
        status=fu.status,
        resolved=fu.status == Status.CLOSED_WITH_ISSUE and bool(fu.issue_resolved),
        status_label=labels.status(fu.status, issue_resolved=fu.issue_resolved),
        late=fu.is_overdue(now),
        due_iso=fmt.iso(fu.due_at),
        due=fmt.when(fu.due_at),
        timing=labels.due_timing(fu.status, fu.due_at, now),
        attempts=fu.contact_attempt_count,
        contacted=contacted,
        outcome=labels.contact_outcome(fu.last_contact_outcome) if contacted else "",
    )
