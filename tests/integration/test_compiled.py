"""The hot statements on the driver's cursor read, write and fail as `Connection.execute` does."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, Integer, String, bindparam, event, literal, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ied_workflow.db import engines
from ied_workflow.db import tables as t
from ied_workflow.db.clock import DatabaseClock, FixedClock
from ied_workflow.db.compiled import CompiledStatement
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import ContactAttempt, Event, Status
from ied_workflow.follow_ups import queries, repository
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPS, delivered, reached
from tests.support.settings import build_settings
from tests.support.shared_servers import kill_other_sessions


def test_locked_read_matches_the_plain_read(workflow: Workflow, engine: Engine) -> None:
    # Given a follow-up with timestamps, a contact and a version above 1
    follow_up = reached(workflow, "L-cursor")
    # When it is read with its lock (the cursor path on PostgreSQL) and without
    with engine.connect() as conn, conn.begin():
        uow = UnitOfWork(conn, DatabaseClock())
        locked = repository.get_locked(uow, follow_up.id)
        now = uow.now
        plain = repository.get(conn, follow_up.id)
    # Then both are the same follow-up, its datetimes aware and in UTC
    assert locked == plain
    assert locked.last_contacted_at is not None and locked.last_contacted_at.tzinfo is UTC
    assert now.tzinfo is not None


def test_history_read_on_the_cursor_matches_the_plain_read(
    workflow: Workflow, engine: Engine
) -> None:
    # Given a follow-up with a contact (an event with JSON data, an attempt with a note)
    follow_up = reached(workflow, "L-history")
    workflow.add_note(follow_up.id, text="called back <later>", by=OPS)
    # When its history is read (the cursor path on PostgreSQL) and through execute
    with engine.connect() as conn, conn.begin():
        events = repository.history(conn, follow_up.id)
        attempts = repository.contact_attempts(conn, follow_up.id)
        plain_events = conn.execute(
            select(t.events).where(t.events.c.follow_up_id == follow_up.id).order_by("id")
        ).all()
        plain_attempts = conn.execute(
            select(t.contact_attempts).where(t.contact_attempts.c.follow_up_id == follow_up.id)
        ).all()
    # Then both give the same rows, oldest first, instants in UTC and data as dicts
    assert [Event(**row._mapping) for row in plain_events] == events
    assert [ContactAttempt(**row._mapping) for row in plain_attempts] == attempts
    assert len(events) >= 3 and all(e.at.tzinfo is UTC for e in events)
    assert events[-1].data == {"note": "called back <later>"}
    assert len(attempts) == 1 and attempts[0].at.tzinfo is UTC


def test_instants_read_from_postgresql_are_utc_whatever_time_zone_a_caller_asks_for(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an engine whose caller asks for another time zone, and for a statement
    # timeout, with libpq's PGTZ (applied after the options) naming a third zone
    monkeypatch.setenv("PGTZ", "Asia/Tokyo")
    asked = "-c TimeZone=America/New_York -c statement_timeout=5000"
    engine = engines.make_engine(postgres_database, connect_args={"options": asked})
    try:
        workflow = Workflow(engine, build_settings(postgres_database), clock=FixedClock(NOW))
        written = reached(workflow, "L-zone")
        # When the follow-up is read in a page, and with its lock and the database's now()
        (found,) = workflow.find(queries.Filter(), limit=5)
        with engine.connect() as conn, conn.begin():
            uow = UnitOfWork(conn, DatabaseClock())
            locked = repository.get_locked(uow, written.id)
            now = uow.now
            timeout = conn.exec_driver_sql("SHOW statement_timeout").scalar_one()
    finally:
        engine.dispose()
    # Then every instant is the one written, in UTC (the session's zone wins); the
    # caller's other option still holds
    assert found == locked == written
    for instant in (found.due_at, found.created_at, found.last_contacted_at, now):
        assert instant is not None and instant.tzinfo is UTC
    assert found.due_at.isoformat().endswith("+00:00")
    assert timeout == "5s"


def test_writes_through_the_cursor_path_keep_types(workflow: Workflow) -> None:
    # Given a started follow-up with a contact logged (attempt row, update with event)
    follow_up = reached(workflow, "L-cursor-types")
    # When its history is read back
    events, attempts = workflow.history(follow_up.id)
    # Then the event's JSON and the attempt's time came through the column types
    logged = next(e for e in events if e.type == "contact_logged")
    assert logged.data["attemptId"] == attempts[0].id
    assert logged.at.tzinfo is UTC and attempts[0].at.tzinfo is UTC


def test_a_lost_connection_is_wrapped_and_invalidated(
    postgres_url: str, postgres_engine: Engine
) -> None:
    # Given a transaction whose server session ends under it, and a handle_error listener
    workflow = Workflow(postgres_engine, build_settings(postgres_url))
    follow_up = delivered(workflow, "L-cursor-lost")
    seen: list[Any] = []
    listener = seen.append
    event.listen(postgres_engine, "handle_error", listener)
    try:
        with postgres_engine.connect() as conn:
            conn.begin()
            repository.get(conn, follow_up.id)  # the session is checked out and working
            assert kill_other_sessions(str(make_url(postgres_url).database)) >= 1
            # When the locking read runs on the driver's cursor
            with pytest.raises(DBAPIError) as raised:
                repository.get_locked(UnitOfWork(conn, DatabaseClock()), follow_up.id)
            # Then SQLAlchemy's error path ran: wrapped, invalidated, listeners told
            assert raised.value.connection_invalidated
            assert conn.invalidated
            assert seen and seen[0].is_disconnect
    finally:
        event.remove(postgres_engine, "handle_error", listener)
    # And the next unit of work runs on a fresh connection
    assert workflow.start(follow_up.id, by=OPS).status == "in_progress"


def test_literal_values_of_a_statement_are_rendered_once_on_the_cursor() -> None:
    # Given a filter's statement: checked statuses are literals, the rest parameters
    where = queries.Filter(statuses=(Status.PENDING, Status.IN_PROGRESS), installer_id="I-7")
    statement = queries._find_statement(queries._shape(where), False)
    # When it is compiled for PostgreSQL's cursor
    compiled = statement._for(postgresql.psycopg.dialect())
    # Then the statuses are in its SQL, and only the parameters are left to send
    assert "status IN ('pending', 'in_progress')" in compiled.sql
    assert "POSTCOMPILE" not in compiled.sql and "%(installer_id)s" in compiled.sql
    sent = re.findall(r"%\((\w+)\)s", compiled.sql)
    assert sorted(sent) == ["installer_id", "limit", "offset"]


def test_a_value_the_driver_cannot_read_fails_as_execute_fails(
    postgres_url: str, postgres_engine: Engine
) -> None:
    # Given a follow-up whose due date psycopg cannot turn into a datetime (infinity)
    workflow = Workflow(postgres_engine, build_settings(postgres_url), clock=FixedClock(NOW))
    follow_up = delivered(workflow, "L-infinity")
    with postgres_engine.begin() as conn:
        conn.execute(
            t.follow_ups.update()
            .where(t.follow_ups.c.id == follow_up.id)
            .values(due_at=literal_column("'infinity'::timestamptz"))
        )
    # When its page is read on the cursor (the value fails as it is fetched)
    with postgres_engine.connect() as conn, pytest.raises(DBAPIError) as raised:
        queries.find(conn, queries.Filter(lead_id="L-infinity"), NOW, ZoneInfo("UTC"))
    # Then the failure is wrapped as `execute` wraps it, and the connection stays usable
    assert "infinity" in str(raised.value.orig).lower() or "too large" in str(raised.value)
    assert not raised.value.connection_invalidated


def test_values_a_statement_holds_are_sent_and_a_parameter_without_one_stays_required(
    postgres_engine: Engine,
) -> None:
    # Given a statement with a literal, a LIMIT and one parameter built without a value
    statement = CompiledStatement(
        select(literal("overdue:", String), bindparam("n", type_=Integer)).limit(1)
    )
    with postgres_engine.connect() as conn, conn.begin():
        # When it runs on the cursor with the parameter, then without it
        row = statement.first(conn, {"n": 7})
        with pytest.raises(DBAPIError) as raised:
            statement.first(conn, {})
    # Then the literal and the LIMIT went with the value given; a missing one is an error,
    # never a NULL
    assert row == ("overdue:", 7)
    assert "n" in str(raised.value.orig)


@pytest.mark.parametrize(
    "statement",
    [
        select(bindparam("at", callable_=lambda: NOW)),  # a value computed on each call
        t.deliveries.insert().values(  # leaves status and attempts to their Python defaults
            alert_id=bindparam("alert_id"), channel="slack", next_attempt_at=bindparam("at")
        ),
    ],
    ids=["callable", "column-default"],
)
def test_a_value_computed_per_call_is_refused_on_the_cursor(
    postgres_engine: Engine, statement: Any
) -> None:
    # Given a statement whose values `execute` would compute on every call
    # When it runs on the cursor, then it is refused before anything is sent
    with (
        postgres_engine.connect() as conn,
        conn.begin(),
        pytest.raises(TypeError, match="computed per call"),
    ):
        CompiledStatement(statement).first(conn, {"alert_id": 1, "at": NOW})
