"""Audit replay finds every summary that its history does not support."""

from __future__ import annotations

from sqlalchemy import Engine, delete, update

from ied_workflow.db import tables
from ied_workflow.follow_ups import history
from ied_workflow.workflow import Workflow
from tests.support.histories import full_lives


def mismatches(workflow: Workflow) -> list[history.Mismatch]:
    return workflow.audit()


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
