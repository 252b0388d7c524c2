"""Lost database connections: the work is redone on a fresh one, never half-done."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ied_workflow.workflow import Workflow
from tests.support.data import OPS, delivered
from tests.support.settings import build_settings
from tests.support.shared_servers import kill_other_sessions


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
