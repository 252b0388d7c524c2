"""Lost database connections: the work is redone on a fresh one, never half-done."""

from __future__ import annotations

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ied_workflow.workflow import Workflow
from tests.integration.test_contract import delivered
from tests.services import PG_ADMIN_URL
from tests.support.data import OPS
from tests.support.settings import build_settings


def kill_other_sessions(database: str) -> int:
    """What a PostgreSQL restart does to pooled connections: end them under the client."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def test_pooled_connection_killed_between_calls_is_replaced(
    postgres_url: str, postgres_engine: Engine
) -> None:
    workflow = Workflow(postgres_engine, build_settings(postgres_url))
    follow_up = delivered(workflow, "L-recovery")
    assert kill_other_sessions(str(make_url(postgres_url).database)) >= 1
    started = workflow.start(follow_up.id, by=OPS)
    events, _ = workflow.history(follow_up.id)
    assert started.status == "in_progress"
    assert [e.type for e in events].count("started") == 1
