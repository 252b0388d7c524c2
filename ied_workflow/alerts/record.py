"""Recording alerts: each is a fact written in the transaction of what caused it.

An alert's `episode_key` is unique, so the same event recorded twice (a retried
transaction, two scans, two beats) is one alert. Recording registers a dispatch for
after the commit; the periodic dispatch catches any hint that gets lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from ied_workflow.alerts.message import Kind
from ied_workflow.db import tables as t
from ied_workflow.db.dialects import upsert_insert
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import FollowUp


def closed_with_issue(uow: UnitOfWork, follow_up: FollowUp) -> int:
    """The immediate alert for a follow-up that closed with its customer's issue open."""
    payload = {"issueSummary": follow_up.issue_summary}
    episode = f"closed_with_issue:{follow_up.id}"  # one closing per follow-up, ever
    return record(uow, Kind.CLOSED_WITH_ISSUE, episode, follow_up_id=follow_up.id, payload=payload)


def digest(uow: UnitOfWork, day: str, counts: Mapping[str, int]) -> int:
    """The daily digest for `day` (the operations' local date); once per day."""
    return record(uow, Kind.DIGEST, f"digest:{day}", payload=dict(counts))


def record(
    uow: UnitOfWork,
    kind: Kind,
    episode_key: str,
    *,
    follow_up_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """Write one alert unless its episode is already recorded; returns alerts written."""
    values = {
        "kind": kind.value,
        "follow_up_id": follow_up_id,
        "episode_key": episode_key,
        "payload": payload,
        "created_at": uow.now,
    }
    written = inserted(uow.conn, upsert_insert(uow.conn, t.alerts).values(values))
    if written:
        uow.after_commit(uow.dispatch_soon)
    return written


def inserted(conn: Connection, statement: Any) -> int:
    """Rows an `INSERT ... ON CONFLICT DO NOTHING` wrote."""
    return max(0, int(conn.execute(ignoring_conflicts(statement)).rowcount))


def ignoring_conflicts(statement: Any) -> Any:
    """`statement` (an INSERT) writing nothing for a row that is already there, and
    counting the rows it wrote."""
    return statement.on_conflict_do_nothing().execution_options(preserve_rowcount=True)
