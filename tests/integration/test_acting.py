"""`Workflow.acting`: the caller's check and the use cases it runs share one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event

from ied_workflow.accounts.records import Principal
from ied_workflow.db import engines
from ied_workflow.domain import Role
from ied_workflow.errors import PermissionDenied, Unauthenticated
from ied_workflow.follow_ups import queries
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPS, delivered
from tests.support.settings import build_settings


@pytest.fixture
def token(workflow: Workflow) -> str:
    workflow.add_user("op@ied.example", role="operator")
    return workflow.create_token("op@ied.example").token


def test_calls_made_while_acting_join_its_transaction(workflow: Workflow, token: str) -> None:
    follow_up = delivered(workflow, "L-acting")

    def start_then_fail(who: Principal) -> None:
        workflow.start(follow_up.id, by=who.email)
        raise RuntimeError("after the start, in the same unit of work")

    with pytest.raises(RuntimeError):
        workflow.acting(token, Role.OPERATOR, start_then_fail)
    assert workflow.get(follow_up.id).status == "pending"  # rolled back with the unit


def test_acting_runs_as_the_token_s_user(workflow: Workflow, token: str) -> None:
    follow_up = delivered(workflow, "L-acting")
    started = workflow.acting(
        token, Role.OPERATOR, lambda who: workflow.start(follow_up.id, by=who.email)
    )
    assert started.status == "in_progress"
    events, _ = workflow.history(follow_up.id)
    assert events[-1].actor_email == "op@ied.example"
    assert workflow.start(delivered(workflow, "L-after").id, by=OPS).status == "in_progress"


def test_a_refused_caller_runs_nothing(workflow: Workflow, token: str) -> None:
    follow_up = delivered(workflow, "L-acting")
    with pytest.raises(PermissionDenied):
        workflow.acting(token, Role.ADMIN, lambda who: workflow.start(follow_up.id, by=OPS))
    with pytest.raises(Unauthenticated):
        workflow.acting(
            "iedw_unknown", Role.VIEWER, lambda who: workflow.start(follow_up.id, by=OPS)
        )
    assert workflow.get(follow_up.id).status == "pending"


@pytest.fixture
def on_database_time(postgres_database: str) -> Iterator[Workflow]:
    """A workflow on PostgreSQL's own clock (no fixed clock given)."""
    engine = engines.make_engine(postgres_database)
    yield Workflow(engine, build_settings(postgres_database))
    engine.dispose()


def sent_from_now_on(workflow: Workflow) -> list[str]:
    """The SQL of every statement the workflow sends from here on."""
    statements: list[str] = []
    event.listen(workflow.engine, "before_cursor_execute", lambda *s: statements.append(s[2]))
    return statements


def test_the_token_check_reads_the_database_clock_for_the_whole_call(
    on_database_time: Workflow,
) -> None:
    # Given a workflow on PostgreSQL's own clock, an overdue follow-up and a token
    overdue = delivered(on_database_time, "L-clock", due_at=NOW - timedelta(days=2))
    on_database_time.add_user("viewer@ied.example", role="viewer")
    token = on_database_time.create_token("viewer@ied.example").token
    statements = sent_from_now_on(on_database_time)
    # When a call that needs "now" runs as the token's user (an overdue page)
    page = on_database_time.acting(
        token, Role.VIEWER, lambda who: on_database_time.find(queries.Filter(overdue=True))
    )
    # Then the page is by the database's clock, read once, by the token's statement
    assert [found.id for found in page] == [overdue.id]
    reading_now = [sql for sql in statements if "now()" in sql]
    assert len(reading_now) == 1 and "api_tokens" in reading_now[0]


def test_a_console_page_reads_the_database_clock_with_its_session_user(
    on_database_time: Workflow,
) -> None:
    # Given a workflow on PostgreSQL's own clock, an overdue follow-up and a console user
    overdue = delivered(on_database_time, "L-page-clock", due_at=NOW - timedelta(days=2))
    user = on_database_time.add_user("viewer@ied.example", role="viewer")
    statements = sent_from_now_on(on_database_time)
    # When a page reads its session's user, then what it shows, in one unit of work
    who, page = on_database_time.together(
        lambda uow: (
            on_database_time.session_user(user.id),
            on_database_time.find(queries.Filter(overdue=True), uow.now),
        )
    )
    # Then the page is by the database's clock, read once, by the user's statement
    assert who.email == "viewer@ied.example" and [found.id for found in page] == [overdue.id]
    reading_now = [sql for sql in statements if "now()" in sql]
    assert len(reading_now) == 1 and "users" in reading_now[0]
