"""The overdue scan: one alert per overdue follow-up and episode, set-based.

An episode starts when a follow-up goes overdue on a due date (reminder 0), and a
reminder starts the next one each `reminder_every` after the last alert, while the
follow-up stays overdue. Rescheduling starts afresh. `overdue_alerts` keeps each
follow-up's latest episode, so a repeat scan reads one primary-key entry per overdue
row; the unique episode key keeps two scans at once from alerting twice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, case, cast, literal, or_, select, tuple_

from ied_workflow.alerts.message import Kind
from ied_workflow.alerts.record import ignoring_conflicts
from ied_workflow.db import tables as t
from ied_workflow.db.compiled import CompiledStatement
from ied_workflow.db.dialects import epoch_seconds, insert_of
from ied_workflow.db.unit_of_work import UnitOfWork

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
    dialect = uow.conn.dialect.name
    values: dict[str, Any] = {
        "now": uow.now,
        "last_alert_before": uow.now - reminder_every,
        "skip": batch_size - 1,
    }
    written = batches = 0
    after: tuple[Any, ...] | None = None
    while True:
        keyset = values | _at("after", after)
        bound = _upper_bound(after=after is not None).first(uow.conn, keyset)
        params = keyset | _at("through", bound)
        batch = _batch(dialect, after=after is not None, through=bound is not None)
        batches += 1
        written += batch.alerts.rowcount(uow.conn, params)
        if batch.remember is not None:  # SQLite: a statement of its own
            batch.remember.rowcount(uow.conn, params)
        if bound is None:
            if written:
                uow.after_commit(uow.dispatch_soon)
            return ScanResult(alerts_written=written, batches=batches)
        after = bound


# Every value the statements take is a parameter, so each is built and compiled once
# (`CompiledStatement`): building them on every scan cost as much CPU as a repeat scan's
# statements themselves, and a scan runs every few seconds.
NOW = bindparam("now", type_=t.UTCDateTime())


def _overdue_rows(after: bool, through: bool) -> Select[Any]:
    """Open rows due before `now`, with (due_at, id) in (after, through]."""
    query = select(fu.id, fu.due_at).where(t.IS_OPEN, fu.due_at < NOW)
    if after:
        query = query.where(tuple_(fu.due_at, fu.id) > _keyset("after"))
    if through:
        query = query.where(tuple_(fu.due_at, fu.id) <= _keyset("through"))
    return query


def _keyset(name: str) -> Any:
    """The parameters `{name}_due` and `{name}_id`, a position in (due_at, id) order."""
    due_at = bindparam(f"{name}_due", type_=fu.due_at.type)
    return tuple_(due_at, bindparam(f"{name}_id", type_=fu.id.type))


def _at(name: str, position: tuple[Any, ...] | None) -> dict[str, Any]:
    """The values of `_keyset(name)` for a (due_at, id) position; none for no position."""
    return {} if position is None else {f"{name}_due": position[0], f"{name}_id": position[1]}


@functools.cache
def _upper_bound(*, after: bool) -> CompiledStatement:
    """The (due_at, id) of a batch's last row; no row when the rest fits in one batch."""
    query = _overdue_rows(after, through=False).with_only_columns(fu.due_at, fu.id)
    query = query.order_by(fu.due_at, fu.id).offset(bindparam("skip", type_=Integer)).limit(1)
    return CompiledStatement(query)


@dataclass(frozen=True, slots=True)
class _Batch:
    """A batch's writes: its alerts and, unless they are one statement, the remembering."""

    alerts: CompiledStatement
    remember: CompiledStatement | None


@functools.cache
def _batch(dialect: str, *, after: bool, through: bool) -> _Batch:
    """The statements that record a batch's new episodes and remember them.

    On PostgreSQL both writes are one statement, so the new episodes are found once.
    """
    postgres = dialect == "postgresql"
    insert = insert_of(dialect)
    episodes = _new_episodes(_overdue_rows(after, through))
    new = episodes.cte("new") if postgres else episodes.subquery("new")
    remember = _remember(insert, new)
    alerts = ignoring_conflicts(_alerts_of(insert, new))
    if postgres:
        return _Batch(CompiledStatement(alerts.add_cte(remember.cte("remembered"))), None)
    return _Batch(CompiledStatement(alerts), CompiledStatement(remember))


def _new_episodes(batch: Select[Any]) -> Select[Any]:
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
    last_alert_before = bindparam("last_alert_before", type_=t.UTCDateTime())
    owed = or_(seen.follow_up_id.is_(None), ~same_due, seen.alerted_at <= last_alert_before)
    return (
        select(rows.c.id, rows.c.due_at, reminder.label("reminder"), episode_key.label("key"))
        .select_from(rows.outerjoin(t.overdue_alerts, seen.follow_up_id == rows.c.id))
        .where(owed)
    )


def _alerts_of(insert: Any, new: Any) -> Any:
    """INSERT of one overdue alert per new episode."""
    kind = literal(Kind.OVERDUE.value, String)
    source = select(kind, new.c.id, new.c.key, NOW).where(SQLITE_UPSERT_GUARD)
    columns = ["kind", "follow_up_id", "episode_key", "created_at"]
    return insert(t.alerts).from_select(columns, source)


def _remember(insert: Any, new: Any) -> Any:
    """Upsert of each follow-up's latest episode into overdue_alerts."""
    source = select(new.c.id, new.c.due_at, new.c.reminder, NOW).where(SQLITE_UPSERT_GUARD)
    columns = ["follow_up_id", "due_at", "reminder", "alerted_at"]
    statement = insert(t.overdue_alerts).from_select(columns, source)
    changed = {name: statement.excluded[name] for name in ("due_at", "reminder", "alerted_at")}
    return statement.on_conflict_do_update(index_elements=["follow_up_id"], set_=changed)
