"""Test data: the fixed clock, who acts, follow-ups to alert, and the outbox they fill.

Writes and reads go through `Workflow.transaction`, as the product's own do, so that a
read right after a PostgreSQL restart retries on a fresh connection instead of failing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ied_workflow import service
from ied_workflow import tables as t
from ied_workflow.domain import FollowUp
from ied_workflow.workflow import Workflow

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
OPS = "ops@ied.example"
OPS_EMAILS = "ops-team@ied.example,night-desk@ied.example"


def overdue_follow_ups(
    workflow: Workflow, count: int, due_at: datetime, *, first: int = 1
) -> list[FollowUp]:
    """`count` follow-ups on fresh leads L-`first`..., due at `due_at`, in one transaction."""

    def make(conn: Any) -> list[FollowUp]:
        made = []
        for number in range(first, first + count):
            lead = f"L-{number}"
            service.upsert_lead(conn, lead, status="assigned", installer_id=f"INST-{number}")
            made.append(service.create(conn, lead, by=OPS, due_at=due_at))
        return made

    return workflow.transaction(make)


def outbox_rows(workflow: Workflow) -> list[dict[str, Any]]:
    """Every outbox row, oldest first."""
    n = t.notifications
    query = select(n).order_by(n.c.id)
    return workflow.transaction(lambda c: [dict(row._mapping) for row in c.execute(query)])


def all_sent(workflow: Workflow) -> bool:
    """The outbox has rows and every one of them is sent."""
    rows = outbox_rows(workflow)
    return bool(rows) and all(row["status"] == "sent" for row in rows)


def duplicates(ids: Iterable[int]) -> int:
    """Mentions beyond the first, summed over ids."""
    return sum(seen - 1 for seen in Counter(ids).values())
