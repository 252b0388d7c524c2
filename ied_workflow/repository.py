"""Reading and writing follow-up rows with SQLAlchemy Core; no rules live here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ied_workflow import tables as t
from ied_workflow.domain import ContactAttempt, Event, FollowUp, Lead
from ied_workflow.errors import ConcurrentModification, NotFound


def upsert_insert(conn: Connection, table: t.Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (PostgreSQL and SQLite)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def get_lead(conn: Connection, lead_id: str) -> Lead:
    row = conn.execute(select(t.leads).where(t.leads.c.id == lead_id)).one_or_none()
    if row is None:
        raise NotFound(f"lead {lead_id} not found")
    return Lead(**row._mapping)


def get(conn: Connection, follow_up_id: int, *, lock: bool = False) -> FollowUp:
    """The follow-up; with `lock`, its row stays locked until the transaction ends."""
    query = select(t.follow_ups).where(t.follow_ups.c.id == follow_up_id)
    if lock:
        query = query.with_for_update()  # SQLite: BEGIN IMMEDIATE already serialises
    row = conn.execute(query).one_or_none()
    if row is None:
        raise NotFound(f"follow-up {follow_up_id} not found")
    return FollowUp(**row._mapping)


def insert_follow_up(conn: Connection, values: dict[str, Any]) -> FollowUp | None:
    """Insert a follow-up; None when the lead already has one (unique lead_id)."""
    statement = (
        upsert_insert(conn, t.follow_ups)
        .values(values)
        .on_conflict_do_nothing(index_elements=["lead_id"])
        .returning(*t.follow_ups.c)
    )
    row = conn.execute(statement).one_or_none()
    return None if row is None else FollowUp(**row._mapping)


def save(conn: Connection, follow_up: FollowUp, changes: dict[str, Any]) -> None:
    """Write `changes` and bump the version; fails if someone else wrote first."""
    changes["version"] = follow_up.version + 1
    result = conn.execute(
        update(t.follow_ups)
        .where(t.follow_ups.c.id == follow_up.id, t.follow_ups.c.version == follow_up.version)
        .values(changes)
    )
    if result.rowcount != 1:
        raise ConcurrentModification(f"follow-up {follow_up.id} was changed by someone else")
    for name, value in changes.items():
        setattr(follow_up, name, value)


def add_event(conn: Connection, follow_up_id: int, **values: Any) -> None:
    conn.execute(insert(t.events).values(follow_up_id=follow_up_id, **values))


def add_contact_attempt(conn: Connection, **values: Any) -> int:
    statement = insert(t.contact_attempts).values(**values).returning(t.contact_attempts.c.id)
    return int(conn.execute(statement).scalar_one())


def history(conn: Connection, follow_up_id: int) -> list[Event]:
    get(conn, follow_up_id)
    rows = conn.execute(
        select(t.events).where(t.events.c.follow_up_id == follow_up_id).order_by(t.events.c.id)
    )
    return [Event(**row._mapping) for row in rows]


def contact_attempts(conn: Connection, follow_up_id: int) -> list[ContactAttempt]:
    rows = conn.execute(
        select(t.contact_attempts)
        .where(t.contact_attempts.c.follow_up_id == follow_up_id)
        .order_by(t.contact_attempts.c.id)
    )
    return [ContactAttempt(**row._mapping) for row in rows]


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
