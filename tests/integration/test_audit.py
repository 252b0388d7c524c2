"""Audit replay finds every summary that its history does not support."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete, update

from ied_workflow.db import tables
from ied_workflow.follow_ups import history
from ied_workflow.workflow import Workflow
from tests.integration.test_contract import OPEN_ISSUE, SATISFIED, delivered, reached
from tests.support.cli import Cli
from tests.support.data import NOW, OPS


def mismatches(workflow: Workflow) -> list[history.Mismatch]:
    return workflow.audit()


def full_lives(workflow: Workflow) -> None:
    done = reached(workflow, "L-1")
    workflow.log_contact(done.id, by=OPS, outcome="attempted", at=NOW - timedelta(hours=5))
    workflow.reschedule(done.id, due_at=NOW + timedelta(days=2), by=OPS)
    workflow.record_outcome(done.id, by=OPS, outcome=SATISFIED)
    issue = reached(workflow, "L-2")
    workflow.record_outcome(issue.id, by=OPS, outcome=OPEN_ISSUE)
    workflow.resolve_issue(issue.id, by=OPS)
    delivered(workflow, "L-3")


def test_histories_written_by_the_service_verify_clean(workflow: Workflow) -> None:
    full_lives(workflow)
    assert mismatches(workflow) == []


def test_a_status_written_behind_the_services_back_is_reported(
    workflow: Workflow, engine: Engine
) -> None:
    full_lives(workflow)
    with engine.begin() as conn:
        conn.execute(
            update(tables.follow_ups).where(tables.follow_ups.c.id == 3).values(status="completed")
        )
    [found] = mismatches(workflow)
    assert (found.follow_up_id, found.field, found.stored, found.rebuilt) == (
        3,
        "status",
        "completed",
        "pending",
    )


def test_a_lost_contact_attempt_is_reported(workflow: Workflow, engine: Engine) -> None:
    full_lives(workflow)
    with engine.begin() as conn:
        conn.execute(delete(tables.contact_attempts).where(tables.contact_attempts.c.id == 2))
    fields = {m.field for m in mismatches(workflow)}  # two events, one attempt row left
    assert "contact_attempt_count" in fields


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
