"""The transactional outbox: alerts are rows written with the change that caused them.

Rows carry a unique (dedupe_key, channel), so a scan run twice, or by two beats at
once, alerts each follow-up once per event. The dispatcher claims rows with a lease;
a worker that dies mid-send leaves rows that are claimed again when the lease ends.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    bindparam,
    cast,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)

from ied_workflow import tables as t
from ied_workflow.domain import OPEN_STATUSES, FollowUp
from ied_workflow.errors import NotFound, RuleViolation
from ied_workflow.notify.message import Kind
from ied_workflow.repository import upsert_insert
from ied_workflow.sqlfuncs import epoch_seconds

PENDING, SENT, FAILED = "pending", "sent", "failed"
fu, n = t.follow_ups.c, t.notifications.c
# Literal so that the planner can match the partial index on open rows.
IS_OPEN = fu.status.in_(bindparam("open", [s.value for s in OPEN_STATUSES], literal_execute=True))
MAX_BACKOFF = timedelta(hours=1)
# SQLite reads "INSERT ... SELECT ... ON CONFLICT" as a join's ON unless the SELECT has a WHERE.
SQLITE_UPSERT_GUARD = literal(True)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one overdue scan found and wrote."""

    alerts_written: int
    batches: int


def closed_with_issue(
    conn: Connection, follow_up: FollowUp, channels: Sequence[str], now: datetime
) -> None:
    """Queue the immediate alert for a follow-up that closed with its issue open."""
    if not channels:
        return
    rows = [
        {
            "kind": Kind.CLOSED_WITH_ISSUE.value,
            "channel": channel,
            "follow_up_id": follow_up.id,
            "dedupe_key": f"closed_with_issue:{follow_up.id}",
            "payload": {"issueSummary": follow_up.issue_summary},
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel in channels
    ]
    conn.execute(upsert_insert(conn, t.notifications).on_conflict_do_nothing(), rows)


def digest(
    conn: Connection, channels: Sequence[str], now: datetime, day: str, counts: dict[str, int]
) -> int:
    """Queue the daily digest for `day` (local date); a second call the same day does nothing."""
    rows = [
        {
            "kind": Kind.DIGEST.value,
            "channel": channel,
            "follow_up_id": None,
            "dedupe_key": f"digest:{day}",
            "payload": counts,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel in channels
    ]
    statement = upsert_insert(conn, t.notifications).on_conflict_do_nothing()
    return _inserted(conn.execute(statement.execution_options(preserve_rowcount=True), rows))


def scan_overdue(
    conn: Connection,
    channels: Sequence[str],
    now: datetime,
    *,
    reminder_every: timedelta,
    batch_size: int = 5000,
) -> ScanResult:
    """Write one outbox row per channel for each overdue follow-up's current alert.

    The key is (follow-up, due date, reminder number): the first alert is number 0,
    one more each `reminder_every` while overdue, and a new due date starts afresh.
    The follow-ups themselves are only read. Batches walk the open-due index by
    (due_at, id) so the cost follows the overdue rows, not the table.
    """
    written = batches = 0
    cursor: tuple[datetime, int] | None = None
    every = max(1, int(reminder_every.total_seconds()))
    while True:
        upper = _batch_upper_bound(conn, now, cursor, batch_size)
        batch = _overdue_rows(now, cursor, upper)
        batches += 1
        written += _write_overdue_alerts(conn, batch, channels, now, every)
        if upper is None:
            return ScanResult(alerts_written=written, batches=batches)
        cursor = upper


def _overdue_rows(
    now: datetime, after: tuple[datetime, int] | None, through: tuple[datetime, int] | None
) -> Any:
    """Open rows due before `now`, with (due_at, id) in (after, through]."""
    query = select(fu.id, fu.due_at).where(IS_OPEN, fu.due_at < now)
    if after is not None:
        query = query.where(tuple_(fu.due_at, fu.id) > tuple_(*after))
    if through is not None:
        query = query.where(tuple_(fu.due_at, fu.id) <= tuple_(*through))
    return query


def _batch_upper_bound(
    conn: Connection, now: datetime, after: tuple[datetime, int] | None, size: int
) -> tuple[datetime, int] | None:
    """The (due_at, id) of the batch's last row, or None when the rest fits in one batch."""
    query = _overdue_rows(now, after, None).order_by(fu.due_at, fu.id).offset(size - 1).limit(1)
    row = conn.execute(query).one_or_none()
    if row is None:
        return None
    return row.due_at, row.id


def _write_overdue_alerts(
    conn: Connection, batch: Any, channels: Sequence[str], now: datetime, every: int
) -> int:
    """Queue the batch's alerts not yet written, and remember them as written.

    `overdue_alerts` holds each follow-up's latest alert key, so that a repeat scan
    reads one primary-key entry per overdue row instead of trying one outbox insert
    per row and channel. The outbox's unique key stays the guarantee against doubles
    (two scans at once); the state row is written in the same transaction. On
    PostgreSQL both writes are one statement, so the fresh rows are found once.
    """
    fresh_rows = _fresh_alerts(batch, now, every)
    postgres = conn.dialect.name == "postgresql"
    fresh = fresh_rows.cte("fresh") if postgres else fresh_rows.subquery("fresh")
    state = upsert_insert(conn, t.overdue_alerts).from_select(
        ["follow_up_id", "alert_key"], select(fresh.c.id, fresh.c.key).where(SQLITE_UPSERT_GUARD)
    )
    state = state.on_conflict_do_update(
        index_elements=["follow_up_id"], set_={"alert_key": state.excluded.alert_key}
    )
    queued = _queue_alerts(conn, fresh, channels, now)
    if postgres:
        queued = queued.add_cte(state.cte("remembered"))
    written = _inserted(conn.execute(queued.execution_options(preserve_rowcount=True)))
    if not postgres:
        conn.execute(state)
    return written


def _queue_alerts(conn: Connection, fresh: Any, channels: Sequence[str], now: datetime) -> Any:
    """INSERT of one outbox row per fresh alert and channel, skipping existing keys."""
    channel_rows = _channel_rows(channels)
    when = literal(now, t.UTCDateTime())
    alerts = (
        select(
            literal(Kind.OVERDUE.value, String),
            channel_rows.c.channel,
            fresh.c.id,
            fresh.c.key,
            literal(PENDING, String),
            literal(0),
            when,
            when,
        )
        .select_from(fresh.join(channel_rows, true()))
        .where(SQLITE_UPSERT_GUARD)
    )
    columns = [
        "kind",
        "channel",
        "follow_up_id",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    return (
        upsert_insert(conn, t.notifications).from_select(columns, alerts).on_conflict_do_nothing()
    )


def _fresh_alerts(batch: Any, now: datetime, every: int) -> Any:
    """(id, key) of the batch's rows whose current alert key was not written yet."""
    rows = batch.subquery("due")
    due_epoch = epoch_seconds(rows.c.due_at)
    reminder = (literal(int(now.timestamp()), type_=t.BigInteger) - due_epoch) // every
    key = (
        literal("overdue:", String)
        + cast(rows.c.id, String)
        + ":"
        + cast(due_epoch, String)
        + ":"
        + cast(reminder, String)
    )
    keyed = select(rows.c.id, key.label("key")).subquery("keyed")
    seen = t.overdue_alerts.c
    return (
        select(keyed.c.id, keyed.c.key)
        .select_from(keyed.outerjoin(t.overdue_alerts, seen.follow_up_id == keyed.c.id))
        .where(seen.alert_key.is_distinct_from(keyed.c.key))
    )


def _channel_rows(channels: Sequence[str]) -> Any:
    """The channels as a one-column table, to write every channel in one statement."""
    rows = [select(literal(name, String).label("channel")) for name in channels]
    return union_all(*rows).subquery("channels")


def _inserted(result: Any) -> int:
    """Rows an INSERT wrote; SQLAlchemy keeps the count only when asked to preserve it."""
    return max(0, int(result.rowcount))


def claim(
    conn: Connection, channel: str, now: datetime, *, limit: int, lease: timedelta
) -> list[dict[str, Any]]:
    """Lease up to `limit` due pending rows of `channel`; other dispatchers skip them."""
    due = (
        select(n.id)
        .where(n.status == PENDING, n.channel == channel, n.next_attempt_at <= now)
        .where(or_(n.claimed_until.is_(None), n.claimed_until < now))
        .order_by(n.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(t.notifications)
        .where(n.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease, attempts=n.attempts + 1)
        .returning(*t.notifications.c)
    )
    return sorted((dict(row._mapping) for row in conn.execute(statement)), key=lambda r: r["id"])


def mark_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    conn.execute(
        update(t.notifications)
        .where(n.id.in_(ids))
        .values(status=SENT, sent_at=now, claimed_until=None, last_error=None)
    )


def mark_failed(
    conn: Connection,
    rows: Sequence[dict[str, Any]],
    error: str,
    now: datetime,
    *,
    permanent: bool,
    max_attempts: int,
    retry_after: float | None = None,
) -> None:
    """Give up on rows (permanent, or out of attempts) or schedule their next attempt."""
    updates = []
    for row in rows:
        give_up = permanent or row["attempts"] >= max_attempts
        wait = _backoff(row["attempts"], retry_after)
        updates.append(
            {
                "row_id": row["id"],
                "new_status": FAILED if give_up else PENDING,
                "next_at": now + wait,
                "error": error[:2000],
            }
        )
    conn.execute(
        update(t.notifications)
        .where(n.id == bindparam("row_id"))
        .values(
            status=bindparam("new_status"),
            next_attempt_at=bindparam("next_at"),
            last_error=bindparam("error"),
            claimed_until=None,
        ),
        updates,
    )


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff with full jitter, at least the channel's Retry-After."""
    ceiling = min(MAX_BACKOFF.total_seconds(), 5 * 2 ** max(0, attempts - 1))
    wait = random.uniform(ceiling / 2, ceiling)
    return timedelta(seconds=max(wait, retry_after or 0))


def find(conn: Connection, status: str | None, *, limit: int = 100) -> list[dict[str, Any]]:
    """Outbox rows, newest first, optionally of one status."""
    query = select(t.notifications).order_by(n.id.desc()).limit(limit)
    if status is not None:
        query = query.where(n.status == status)
    return [dict(row._mapping) for row in conn.execute(query)]


def retry(conn: Connection, notification_id: int, now: datetime) -> None:
    """Put a failed (or pending) row back in line for an immediate attempt."""
    result = conn.execute(
        update(t.notifications)
        .where(n.id == notification_id, n.status != SENT)
        .values(status=PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
    )
    if result.rowcount != 1:
        exists = conn.execute(select(n.status).where(n.id == notification_id)).one_or_none()
        if exists is None:
            raise NotFound(f"notification {notification_id} not found")
        raise RuleViolation(f"notification {notification_id} was already sent")
