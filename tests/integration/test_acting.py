"""`Workflow.acting`: the caller's check and the use cases it runs share one transaction."""

from __future__ import annotations

import pytest

from ied_workflow.accounts import Principal
from ied_workflow.domain import Role
from ied_workflow.errors import PermissionDenied, Unauthenticated
from ied_workflow.workflow import Workflow
from tests.integration.test_contract import delivered
from tests.support.data import OPS


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
