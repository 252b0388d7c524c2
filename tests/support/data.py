"""Test data: the fixed instant, who acts, follow-ups to alert, and their deliveries.

Writes and reads go through `Workflow.run`, as the product's own do, so that a read
right after a PostgreSQL restart retries on a fresh connection instead of failing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import FollowUp, Outcome, Satisfaction
from ied_workflow.follow_ups import use_cases
from ied_workflow.workflow import Workflow

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
OPS = "ops@ied.example"
OPS_EMAILS = "ops-team@ied.example,night-desk@ied.example"
SATISFIED = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)
OPEN_ISSUE = Outcome(has_issue=True, issue_summary="roof still leaks")


def delivered(workflow: Workflow, lead_id: str = "L-1", **create: object) -> FollowUp:
    """An assigned lead of installer I-7, and its follow-up opened at NOW by OPS."""
    workflow.upsert_lead(lead_id, status="assigned", installer_id="I-7")
    return workflow.create(lead_id, by=OPS, now=NOW, **create)  # type: ignore[arg-type]


def reached(workflow: Workflow, lead_id: str = "L-1") -> FollowUp:
    """A delivered follow-up whose customer was reached at NOW."""
    follow_up = delivered(workflow, lead_id)
    return workflow.log_contact(follow_up.id, by=OPS, outcome="reached_customer", now=NOW)


def overdue_follow_ups(
    workflow: Workflow, count: int, due_at: datetime, *, first: int = 1
) -> list[FollowUp]:
    """`count` follow-ups on fresh leads L-`first`..., due at `due_at`, in one transaction."""

    def make(uow: UnitOfWork) -> list[FollowUp]:
        made = []
        for number in range(first, first + count):
            lead = f"L-{number}"
            use_cases.upsert_lead(uow, lead, status="assigned", installer_id=f"INST-{number}")
            made.append(use_cases.create(uow, lead, by=OPS, due_at=due_at))
        return made

    return workflow.run(make)


def delivery_rows(workflow: Workflow) -> list[dict[str, Any]]:
    """Every delivery (an alert on one channel) with its alert, oldest first."""
    return sorted(workflow.notifications(limit=1_000_000), key=lambda row: row["id"])


def all_sent(workflow: Workflow, channels: Collection[str] = ()) -> bool:
    """There are deliveries, every one is sent, and no alert waits for a channel.

    Channels fan out one at a time: with `channels`, every alert must also have a
    delivery on each of them, or one channel's sent delivery would pass for all.
    """
    rows = delivery_rows(workflow)
    waiting = workflow.undelivered_alerts(limit=1)
    taken: dict[int, set[str]] = {}
    for row in rows:
        taken.setdefault(row["alert_id"], set()).add(row["channel"])
    on_every_channel = all(set(channels) <= seen for seen in taken.values())
    sent = all(row["status"] == "sent" for row in rows)
    return bool(rows) and not waiting and sent and on_every_channel


def duplicates(ids: Iterable[int]) -> int:
    """Mentions beyond the first, summed over ids."""
    return sum(seen - 1 for seen in Counter(ids).values())
