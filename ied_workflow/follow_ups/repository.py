"""Reading and writing follow-up rows with SQLAlchemy Core; no rules live here.

The hot statements are built once with bind parameters: building a statement per
call cost more than running it.
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, Update, bindparam, insert, select, update

from ied_workflow.db import tables as t
from ied_workflow.db.compiled import CompiledStatement
from ied_workflow.db.dialects import upsert_insert
from ied_workflow.db.unit_of_work import FirstRead, UnitOfWork
from ied_workflow.domain import ContactAttempt, Event, FollowUp, Lead
from ied_workflow.errors import ConcurrentModification, NotFound


def _rows_of(table: t.Table, row_type: type) -> Select[Any]:
    """A follow-up's rows of `table`, oldest first, in `row_type`'s field order."""
    columns = [table.c[field.name] for field in fields(row_type)]
    return (
        select(*columns)
        .where(table.c.follow_up_id == bindparam("follow_up_id"))
        .order_by(table.c.id)
    )


# The columns in the dataclasses' field order, so a row maps with FollowUp(*row).
_LEAD = [t.leads.c[field.name] for field in fields(Lead)]
_FOLLOW_UP = [t.follow_ups.c[field.name] for field in fields(FollowUp)]
_GET_LEAD = FirstRead.of(select(*_LEAD).where(t.leads.c.id == bindparam("lead_id")))


def get_lead(uow: UnitOfWork, lead_id: str) -> Lead:
    """The lead; as a unit of work's first statement, it brings the clock's reading too."""
    row = _GET_LEAD.first(uow, {"lead_id": lead_id})
    if row is None:
        raise NotFound(f"lead {lead_id} not found")
    return Lead(*row)


_GET = select(*_FOLLOW_UP).where(t.follow_ups.c.id == bindparam("follow_up_id"))
# FOR NO KEY UPDATE: the id never changes, and a weaker lock does not block the
# overdue scan, whose outbox inserts take FOR KEY SHARE on the follow-ups they name.
# SQLite: BEGIN IMMEDIATE already serialises writers.
# The hot statements of every transition run on the driver's cursor (`db/compiled.py`).
_GET_LOCKED = FirstRead.of(_GET.with_for_update(key_share=True))
_ADD_EVENT = insert(t.events)
# A detail page reads 50 or more of each: rows by position on the cursor, in the
# dataclasses' field order, cost about half of `execute` and a mapping per row.
_HISTORY = CompiledStatement(_rows_of(t.events, Event))
_ATTEMPTS = CompiledStatement(_rows_of(t.contact_attempts, ContactAttempt))
_ATTEMPT_COLUMNS = ("follow_up_id", "at", "by_email", "outcome", "note")
_ADD_ATTEMPT = CompiledStatement(
    insert(t.contact_attempts)
    .values({name: bindparam(name) for name in _ATTEMPT_COLUMNS})
    .returning(t.contact_attempts.c.id)
)


def get(conn: Connection, follow_up_id: int) -> FollowUp:
    """The follow-up, as it stands."""
    row = conn.execute(_GET, {"follow_up_id": follow_up_id}).one_or_none()
    if row is None:
        raise NotFound(f"follow-up {follow_up_id} not found")
    return FollowUp(*row)


def get_locked(uow: UnitOfWork, follow_up_id: int) -> FollowUp:
    """The follow-up, its row locked until the unit of work ends; as its first statement,
    it brings the clock's reading too."""
    row = _GET_LOCKED.first(uow, {"follow_up_id": follow_up_id})
    if row is None:
        raise NotFound(f"follow-up {follow_up_id} not found")
    return FollowUp(*row)


def follow_up_id_of_lead(conn: Connection, lead_id: str) -> int | None:
    """The id of the lead's follow-up, if it has one."""
    query = select(t.follow_ups.c.id).where(t.follow_ups.c.lead_id == lead_id)
    found: int | None = conn.execute(query).scalar_one_or_none()
    return found


def insert_follow_up(conn: Connection, values: dict[str, Any]) -> FollowUp | None:
    """Insert a follow-up; None when the lead already has one (unique lead_id)."""
    statement = (
        upsert_insert(conn, t.follow_ups)
        .values(values)
        .on_conflict_do_nothing(index_elements=["lead_id"])
        .returning(*_FOLLOW_UP)
    )
    row = conn.execute(statement).one_or_none()
    return None if row is None else FollowUp(*row)


def save(
    conn: Connection, follow_up: FollowUp, changes: dict[str, Any], event: dict[str, Any]
) -> None:
    """Write `changes` with their audit `event` and bump the version.

    Fails, writing nothing, if someone else wrote first. On PostgreSQL the update and
    the event are one statement (one round trip, and no event without its update).
    """
    changes["version"] = follow_up.version + 1
    columns = tuple(sorted(changes))
    params = {**changes, "_id": follow_up.id, "_seen": follow_up.version}
    if conn.dialect.name == "postgresql":
        params.update({f"event_{name}": value for name, value in event.items()})
        written = _update_with_event(columns).rowcount(conn, params)
    else:
        written = conn.execute(_update_of(columns), params).rowcount
        if written == 1:
            add_event(conn, follow_up.id, **event)
    if written != 1:
        raise ConcurrentModification(f"follow-up {follow_up.id} was changed by someone else")
    for name, value in changes.items():
        setattr(follow_up, name, value)


@lru_cache(maxsize=64)
def _update_of(columns: tuple[str, ...]) -> Update:
    """UPDATE of these columns, guarded by id and the version the writer saw."""
    fu = t.follow_ups.c
    return (
        update(t.follow_ups)
        .where(fu.id == bindparam("_id"), fu.version == bindparam("_seen"))
        .values({name: bindparam(name) for name in columns})
    )


EVENT_COLUMNS = ("type", "from_status", "to_status", "actor_email", "at", "data")


@lru_cache(maxsize=64)
def _update_with_event(columns: tuple[str, ...]) -> CompiledStatement:
    """WITH changed AS (UPDATE ... RETURNING id) INSERT INTO events SELECT ... FROM changed."""
    changed = _update_of(columns).returning(t.follow_ups.c.id).cte("changed")
    values = [bindparam(f"event_{name}", type_=t.events.c[name].type) for name in EVENT_COLUMNS]
    source = select(changed.c.id, *values)
    statement = insert(t.events).from_select(["follow_up_id", *EVENT_COLUMNS], source)
    return CompiledStatement(statement.add_cte(changed))


def add_event(conn: Connection, follow_up_id: int, **values: Any) -> None:
    conn.execute(_ADD_EVENT, {"follow_up_id": follow_up_id, **values})


def add_contact_attempt(conn: Connection, **values: Any) -> int:
    row = _ADD_ATTEMPT.first(conn, values)
    assert row is not None  # INSERT ... RETURNING returns its row
    return int(row[0])


def history(conn: Connection, follow_up_id: int) -> list[Event]:
    """The follow-up's audit events, oldest first; NotFound when there is no follow-up."""
    get(conn, follow_up_id)
    return [Event(*row) for row in _HISTORY.all(conn, {"follow_up_id": follow_up_id})]


def contact_attempts(conn: Connection, follow_up_id: int) -> list[ContactAttempt]:
    """The follow-up's contact attempts, oldest first."""
    rows = _ATTEMPTS.all(conn, {"follow_up_id": follow_up_id})
    return [ContactAttempt(*row) for row in rows]


def upsert_lead(conn: Connection, lead: Lead) -> Lead:
    values = {
        "id": lead.id,
        "status": lead.status,
        "installer_id": lead.installer_id,
        "updated_at": lead.updated_at,
    }
    statement = upsert_insert(conn, t.leads).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["id"],
        set_={name: statement.excluded[name] for name in ("status", "installer_id", "updated_at")},
    )
    conn.execute(statement)
    return lead
