"""`ied-workflow audit verify`: exit 0 when every summary matches its history, 3 otherwise."""

from __future__ import annotations

from sqlalchemy import Engine, update

from ied_workflow.db import tables
from ied_workflow.workflow import Workflow
from tests.support.cli import Cli
from tests.support.histories import full_lives


def test_audit_verify_command_exits_3_on_mismatch(
    cli: Cli,
    engine: Engine,
    workflow: Workflow,
) -> None:
    full_lives(workflow)
    assert cli("audit", "verify").code == 0
    with engine.begin() as conn:
        conn.execute(update(tables.follow_ups).values(contact_attempt_count=9))
    result = cli("audit", "verify", "--json")
    assert result.code == 3
    assert '"ok": false' in result.out
