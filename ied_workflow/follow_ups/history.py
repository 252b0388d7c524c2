"""Audit replay: rebuild each follow-up from its history and report every mismatch.

The events and contact-attempt rows are the history; the follow-up row is a summary
of it. If the two disagree, something wrote outside the service layer, or a write
was lost or doubled. Reliability tests use this as their oracle.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from ied_workflow.db import tables as t
from ied_workflow.domain import ContactAttempt, Event, FollowUp

BATCH = 1000


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field whose stored value differs from what the history says."""

    follow_up_id: int
    field: str
    stored: Any
    rebuilt: Any


def verify(conn: Connection) -> Iterator[Mismatch]:
    """Every mismatch between follow-up rows and their histories, in id order."""
    last_id = 0
    while True:
        rows = conn.execute(
            select(t.follow_ups)
            .where(t.follow_ups.c.id > last_id)
            .order_by(t.follow_ups.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        follow_ups = [FollowUp(**row._mapping) for row in rows]
        events, attempts = _histories(conn, [f.id for f in follow_ups])
        for follow_up in follow_ups:
            yield from compare(
                follow_up, events.get(follow_up.id, []), attempts.get(follow_up.id, [])
            )
        last_id = follow_ups[-1].id


def _histories(
    conn: Connection, ids: Sequence[int]
) -> tuple[dict[int, list[Event]], dict[int, list[ContactAttempt]]]:
    events: dict[int, list[Event]] = {}
    query = select(t.events).where(t.events.c.follow_up_id.in_(ids)).order_by(t.events.c.id)
    for row in conn.execute(query):
        events.setdefault(row.follow_up_id, []).append(Event(**row._mapping))
    attempts: dict[int, list[ContactAttempt]] = {}
    query = (
        select(t.contact_attempts)
        .where(t.contact_attempts.c.follow_up_id.in_(ids))
        .order_by(t.contact_attempts.c.id)
    )
    for row in conn.execute(query):
        attempts.setdefault(row.follow_up_id, []).append(ContactAttempt(**row._mapping))
    return events, attempts


def rebuild(events: Sequence[Event], attempts: Sequence[ContactAttempt]) -> dict[str, Any]:
    """The follow-up fields that its history determines."""
    state: dict[str, Any] = {
        "status": None,
        "broken_chain": 0,
        "due_at": None,
        "has_issue": None,
        "issue_resolved": False,
    }
    for event in events:
        if event.from_status != state["status"]:
            state["broken_chain"] += 1
        state["status"] = event.to_status
        if "dueAt" in event.data and event.type in ("created", "rescheduled"):
            state["due_at"] = datetime.fromisoformat(str(event.data["dueAt"]))
        if event.type == "outcome_recorded":
            state["has_issue"] = event.data["hasIssue"]
            state["issue_resolved"] = event.data["issueResolved"]
        if event.type == "issue_resolved":
            state["issue_resolved"] = True
    latest = max(attempts, key=lambda a: (a.at, a.id), default=None)
    state.update(
        contact_attempt_count=len(attempts),
        contact_events=sum(1 for e in events if e.type == "contact_logged"),
        reached_customer=any(a.outcome == "reached_customer" for a in attempts),
        last_contacted_at=latest and latest.at,
        last_contacted_by_email=latest and latest.by_email,
        last_contact_outcome=latest and latest.outcome,
    )
    return state


def compare(
    follow_up: FollowUp, events: Sequence[Event], attempts: Sequence[ContactAttempt]
) -> Iterator[Mismatch]:
    state = rebuild(events, attempts)
    stored = {name: getattr(follow_up, name) for name in FIELDS}
    stored.update(broken_chain=0, contact_events=follow_up.contact_attempt_count)
    for name, value in state.items():
        if stored[name] != value:
            yield Mismatch(follow_up.id, name, stored[name], value)


FIELDS = (
    "status",
    "due_at",
    "has_issue",
    "issue_resolved",
    "contact_attempt_count",
    "reached_customer",
    "last_contacted_at",
    "last_contacted_by_email",
    "last_contact_outcome",
)
