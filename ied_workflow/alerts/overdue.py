"""The overdue scan: one alert per overdue follow-up and episode, set-based.

An episode starts when a follow-up goes overdue on a due date (reminder 0), and a
reminder starts the next one each `reminder_every` after the last alert, while the
follow-up stays overdue. Rescheduling starts afresh. `overdue_alerts` keeps each
follow-up's latest episode, so a repeat scan reads one primary-key entry per overdue
row; the unique episode key keeps two scans at once from alerting twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, case, cast, literal, or_, select, tuple_

from ied_workflow import tables as t
from ied_workflow.alerts.message import Kind
from ied_workflow.alerts.record import inserted
from ied_workflow.repository import upsert_insert
from ied_workflow.sqlfuncs import epoch_seconds
from ied_workflow.unit_of_work import UnitOfWork

fu, seen = t.follow_ups.c, t.overdue_alerts.c
# SQLite reads "INSERT ... SELECT ... ON CONFLICT" as a join's ON unless the SELECT has a WHERE.
SQLITE_UPSERT_GUARD = literal(True)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one overdue scan found and wrote."""

    alerts_written: int
    batches: int


def scan(uow: UnitOfWork, *, reminder_every: timedelta, batch_size: int) -> ScanResult:
    """Record the alert of every overdue follow-up whose current episode has none yet.

    The follow-ups themselves are only read. Batches walk the open-due index by
    (due_at, id), so the cost follows the overdue rows, not the table.
    """
    written = batches = 0
    cursor: tuple[datetime, int] | None = None
    while True:
        upper = _batch_upper_bound(uow, cursor, batch_size)
        batches += 1
        written += _record_batch(uow, _overdue_rows(uow.now, cursor, upper), reminder_every)
        if upper is None:
            if written:
                uow.after_commit(uow.dispatch_soon)
            return ScanResult(alerts_written=written, batches=batches)
        cursor = upper


def _overdue_rows(
    now: datetime, after: tuple[datetime, int] | None, through: tuple[datetime, int] | None
) -> Any:
    """Open rows due before `now`, with (due_at, id) in (after, through]."""
    query = select(fu.id, fu.due_at).where(t.IS_OPEN, fu.due_at < now)
    if after is not None:
        query = query.where(tuple_(fu.due_at, fu.id) > tuple_(*after))
    if through is not None:
        query = query.where(tuple_(fu.due_at, fu.id) <= tuple_(*through))
    return query


def _batch_upper_bound(
    uow: UnitOfWork, after: tuple[datetime, int] | None, size: int
) -> tuple[datetime, int] | None:
    """The (due_at, id) of the batch's last row, or None when the rest fits in one batch."""
    query = _overdue_rows(uow.now, after, None).order_by(fu.due_at, fu.id).offset(size - 1)
    row = uow.conn.execute(query.limit(1)).one_or_none()
    return None if row is None else (row.due_at, row.id)


def _record_batch(uow: UnitOfWork, batch: Any, reminder_every: timedelta) -> int:
    """Record the batch's new episodes and remember them, in the same transaction.

    On PostgreSQL both writes are one statement, so the new episodes are found once.
    """
    postgres = uow.conn.dialect.name == "postgresql"
    episodes = _new_episodes(batch, uow.now - reminder_every)
    new = episodes.cte("new") if postgres else episodes.subquery("new")
    remember = _remember(uow, new)
    alerts = _alerts_of(uow, new)
    if postgres:
        alerts = alerts.add_cte(remember.cte("remembered"))
    written = inserted(uow.conn, alerts)
    if not postgres:
        uow.conn.execute(remember)
    return written


def _new_episodes(batch: Any, last_alert_before: datetime) -> Any:
    """(id, due_at, reminder, episode key) of the batch's rows that are owed an alert."""
    rows = batch.subquery("due")
    same_due = seen.due_at == rows.c.due_at
    reminder = case((same_due, seen.reminder + 1), else_=0)
    episode_key = (
        literal("overdue:", String)
        + cast(rows.c.id, String)
        + ":"
        + cast(epoch_seconds(rows.c.due_at), String)
        + ":"
        + cast(reminder, String)
    )
    owed = or_(seen.follow_up_id.is_(None), ~same_due, seen.alerted_at <= last_alert_before)
    return (
        select(rows.c.id, rows.c.due_at, reminder.label("reminder"), episode_key.label("key"))
        .select_from(rows.outerjoin(t.overdue_alerts, seen.follow_up_id == rows.c.id))
        .where(owed)
    )


def _alerts_of(uow: UnitOfWork, new: Any) -> Any:
    """INSERT of one overdue alert per new episode."""
    source = select(
        literal(Kind.OVERDUE.value, String),
        new.c.id,
        new.c.key,
        literal(uow.now, t.UTCDateTime()),
    ).where(SQLITE_UPSERT_GUARD)
    columns = ["kind", "follow_up_id", "episode_key", "created_at"]
    return upsert_insert(uow.conn, t.alerts).from_select(columns, source)


def _remember(uow: UnitOfWork, new: Any) -> Any:
    """Upsert of each follow-up's latest episode into overdue_alerts."""
    source = select(
        new.c.id, new.c.due_at, new.c.reminder, literal(uow.now, t.UTCDateTime())
    ).where(SQLITE_UPSERT_GUARD)
    columns = ["follow_up_id", "due_at", "reminder", "alerted_at"]
    statement = upsert_insert(uow.conn, t.overdue_alerts).from_select(columns, source)
    changed = {name: statement.excluded[name] for name in ("due_at", "reminder", "alerted_at")}
    return statement.on_conflict_do_update(index_elements=["follow_up_id"], set_=changed)
