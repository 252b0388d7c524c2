"""Each alert's delivery on each channel: pending, then sent or failed, with a lease.

The dispatcher fans alerts out to the channels it is configured with when it runs,
so an alert recorded by a process without Slack settings is still posted by one that
has them. A channel met for the first time takes only the alerts of the last
`backlog` before that moment; older ones are skipped on it (the digest summarises
what is still open, and an overdue follow-up's next reminder reaches it anyway).
A channel already in use takes every alert, however long the dispatcher was down.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, exists, func, literal, or_, select, update

from ied_workflow.alerts.record import inserted
from ied_workflow.db import tables as t
from ied_workflow.db.dialects import in_ids, upsert_insert
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.errors import NotFound, RuleViolation

PENDING, SENT, FAILED = "pending", "sent", "failed"
STATUSES = (PENDING, SENT, FAILED)
a, d = t.alerts.c, t.deliveries.c
MAX_BACKOFF = timedelta(hours=1)
# Fan-out looks again at alerts this much older than its last look: an alert carries
# its transaction's start time, and may commit up to a task time limit later.
FAN_OUT_OVERLAP = timedelta(hours=1)


def fan_out(uow: UnitOfWork, channel: str, *, backlog: timedelta) -> int:
    """Make a pending delivery on `channel` for each recent alert without one."""
    since = _fan_out_since(uow, channel, backlog)
    has_delivery = exists().where(d.alert_id == a.id, d.channel == channel)
    source = select(
        a.id, literal(channel, String), literal(PENDING, String), literal(0), _now(uow)
    ).where(a.created_at >= since, ~has_delivery)
    columns = ["alert_id", "channel", "status", "attempts", "next_attempt_at"]
    written = inserted(uow.conn, upsert_insert(uow.conn, t.deliveries).from_select(columns, source))
    marks = t.channels.c
    uow.conn.execute(update(t.channels).where(marks.name == channel).values(fanned_out_at=uow.now))
    return written


def _fan_out_since(uow: UnitOfWork, channel: str, backlog: timedelta) -> datetime:
    """From when this channel's fan-out must look; records a channel met for the first time."""
    marks = t.channels.c
    first = {"name": channel, "first_used_at": uow.now, "fanned_out_at": None}
    inserted(uow.conn, upsert_insert(uow.conn, t.channels).values(first))
    row = uow.conn.execute(select(t.channels).where(marks.name == channel)).one()
    since = row.first_used_at - backlog
    if row.fanned_out_at is not None:
        since = max(since, row.fanned_out_at - FAN_OUT_OVERLAP)
    return since


def _now(uow: UnitOfWork) -> Any:
    return literal(uow.now, t.UTCDateTime())


def claim(uow: UnitOfWork, channel: str, *, limit: int, lease: timedelta) -> list[dict[str, Any]]:
    """Lease up to `limit` due pending deliveries of `channel`, with their alerts.

    Other dispatchers skip the leased rows until the lease ends or a result is written.
    """
    now = uow.now
    due = (
        select(d.id)
        .where(d.status == PENDING, d.channel == channel, d.next_attempt_at <= now)
        .where(or_(d.claimed_until.is_(None), d.claimed_until < now))
        .order_by(d.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = (
        update(t.deliveries)
        .where(d.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease, attempts=d.attempts + 1)
        .returning(d.id)
    )
    ids = uow.conn.execute(claimed).scalars().all()
    if not ids:
        return []
    query = (
        select(*_CLAIMED)
        .select_from(t.deliveries.join(t.alerts, a.id == d.alert_id))
        .where(in_ids(uow.conn, d.id, ids))
        .order_by(d.id)
    )
    result = uow.conn.execute(query)
    keys = list(result.keys())  # rows as plain dicts, cheaper than dict(row._mapping)
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


# What the dispatcher uses of a claimed delivery (message, result, log line); no more,
# so 10,000 rows a batch do not convert four timestamps each that nobody reads.
_CLAIMED = (d.id, d.alert_id, d.attempts, a.kind, a.follow_up_id, a.payload)


def _with_alerts() -> Any:
    """Deliveries joined with what their alert says, oldest first."""
    return (
        select(
            *t.deliveries.c,
            a.kind,
            a.follow_up_id,
            a.episode_key,
            a.payload,
            a.created_at,
        )
        .select_from(t.deliveries.join(t.alerts, a.id == d.alert_id))
        .order_by(d.id)
    )


def mark_sent(uow: UnitOfWork, ids: Sequence[int]) -> None:
    uow.conn.execute(
        update(t.deliveries)
        .where(in_ids(uow.conn, d.id, ids))
        .values(status=SENT, sent_at=uow.now, claimed_until=None, last_error=None)
    )


def mark_failed(
    uow: UnitOfWork,
    rows: Sequence[dict[str, Any]],
    error: str,
    *,
    permanent: bool,
    max_attempts: int,
    retry_after: float | None = None,
) -> list[dict[str, Any]]:
    """Give up on deliveries (permanent, or out of attempts) or schedule their next attempt.

    Returns what was decided per row (delivery_id, new_status, next_at), for the logs.
    """
    results = [
        {
            "delivery_id": row["id"],
            "new_status": FAILED if permanent or row["attempts"] >= max_attempts else PENDING,
            "next_at": uow.now + _backoff(row["attempts"], retry_after),
            "error": error[:2000],
        }
        for row in rows
    ]
    uow.conn.execute(
        update(t.deliveries)
        .where(d.id == bindparam("delivery_id"))
        .values(
            status=bindparam("new_status"),
            next_attempt_at=bindparam("next_at"),
            last_error=bindparam("error"),
            claimed_until=None,
        ),
        results,
    )
    return results


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff with full jitter, at least the channel's Retry-After."""
    ceiling = min(MAX_BACKOFF.total_seconds(), 5 * 2 ** max(0, attempts - 1))
    wait = random.uniform(ceiling / 2, ceiling)
    return timedelta(seconds=max(wait, retry_after or 0))


def find(uow: UnitOfWork, status: str | None, *, limit: int = 100) -> list[dict[str, Any]]:
    """Deliveries with their alerts, newest first, optionally of one status."""
    query = _with_alerts().order_by(None).order_by(d.id.desc()).limit(limit)
    if status is not None:
        query = query.where(d.status == status)
    return [dict(row._mapping) for row in uow.conn.execute(query)]


def undelivered(uow: UnitOfWork, *, limit: int = 100) -> list[dict[str, Any]]:
    """Alerts no channel has taken yet (no dispatcher has run since they were recorded)."""
    no_delivery = ~exists().where(d.alert_id == a.id)
    query = select(t.alerts).where(no_delivery).order_by(a.id.desc()).limit(limit)
    return [dict(row._mapping) for row in uow.conn.execute(query)]


def retry(uow: UnitOfWork, delivery_id: int) -> None:
    """Put a failed (or pending) delivery back in line for an immediate attempt."""
    result = uow.conn.execute(
        update(t.deliveries)
        .where(d.id == delivery_id, d.status != SENT)
        .values(status=PENDING, attempts=0, next_attempt_at=uow.now, claimed_until=None)
    )
    if result.rowcount != 1:
        status = uow.conn.execute(select(d.status).where(d.id == delivery_id)).scalar()
        if status is None:
            raise NotFound(f"notification {delivery_id} not found")
        raise RuleViolation(f"notification {delivery_id} was already sent")


def failed_alerts(uow: UnitOfWork) -> int:
    """How many alerts failed for good on at least one channel: for the digest."""
    query = select(func.count(func.distinct(d.alert_id))).where(d.status == FAILED)
    return int(uow.conn.execute(query).scalar_one())


def oldest_pending_at(uow: UnitOfWork) -> datetime | None:
    """When the oldest alert still waiting for a channel (or for any) was recorded."""
    waiting = exists().where(d.alert_id == a.id, d.status == PENDING)
    untaken = ~exists().where(d.alert_id == a.id)
    query = select(func.min(a.created_at)).where(or_(waiting, untaken))
    oldest: datetime | None = uow.conn.execute(query).scalar_one()
    return oldest


def written(uow: UnitOfWork) -> dict[str, int]:
    """Alerts recorded so far, per kind (a counter: alerts are never deleted)."""
    query = select(a.kind, func.count()).group_by(a.kind)
    return {kind: int(n) for kind, n in uow.conn.execute(query)}


def backlog(uow: UnitOfWork) -> dict[tuple[str, str], int]:
    """How many deliveries are pending and failed, per (channel, status): for metrics."""
    query = (
        select(d.channel, d.status, func.count())
        .where(d.status.in_((PENDING, FAILED)))
        .group_by(d.channel, d.status)
    )
    return {(channel, status): int(n) for channel, status, n in uow.conn.execute(query)}
