"""The state machine alone: its shape, its back doors (none) and its footprint."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

import pytest

from ied_workflow import states
from ied_workflow.domain import FollowUp, Outcome, Satisfaction
from ied_workflow.errors import GuardFailed, TransitionNotAllowed

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def follow_up(status: str = "pending", **fields: object) -> FollowUp:
    return FollowUp(
        id=1,
        lead_id="L-1",
        installer_id="I-1",
        status=status,
        due_at=NOW,
        created_at=NOW,
        created_by_email="a@b.example",
        updated_at=NOW,
        version=1,
        **fields,
    )  # type: ignore[arg-type]


def test_statuses_are_exactly_the_four_of_the_contract() -> None:
    assert sorted(states.MACHINE.states) == [
        "closed_with_issue",
        "completed",
        "in_progress",
        "pending",
    ]


def test_no_auto_transitions_back_door() -> None:
    triggers = {t for status in states.ANY for t in states.MACHINE.get_triggers(status)}
    assert not any(t.startswith("to_") for t in triggers)
    assert not hasattr(follow_up(), "to_completed")


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        ("pending", ["add_note", "log_contact", "reschedule", "start"]),
        ("in_progress", ["add_note", "log_contact", "record_outcome", "reschedule"]),
        ("completed", ["add_note"]),
        ("closed_with_issue", ["add_note", "resolve_issue"]),
    ],
)
def test_terminal_states_stay_terminal(status: str, allowed: list[str]) -> None:
    assert states.allowed_triggers(status) == allowed


def test_guard_refusal_leaves_the_status_alone() -> None:
    subject = follow_up("in_progress")
    with pytest.raises(GuardFailed):
        states.fire(subject, "record_outcome", outcome=Outcome(has_issue=False))
    assert subject.status == "in_progress"


def test_invalid_trigger_names_the_current_status() -> None:
    with pytest.raises(TransitionNotAllowed, match="is completed"):
        states.fire(follow_up("completed"), "start")


def test_firing_on_many_follow_ups_registers_nothing() -> None:
    outcome = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)

    def life() -> None:
        subject = follow_up(reached_customer=True)
        states.fire(subject, "start")
        states.fire(subject, "record_outcome", outcome=outcome)

    life()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(5000):
        life()
    grown = sum(
        stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename")
    )
    tracemalloc.stop()
    assert states.MACHINE.models == []
    assert grown < 64 * 1024  # constant memory: nothing kept per follow-up
