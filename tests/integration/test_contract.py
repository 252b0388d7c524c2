"""The contract's validation scenarios and guards, on SQLite and on PostgreSQL.

Each test is named after the rule it checks; see spec/follow-up-status-model.md.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from ied_workflow.db import tables
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.errors import (
    DuplicateFollowUp,
    GuardFailed,
    LeadNotEligible,
    NotFound,
    TransitionNotAllowed,
    ValidationError,
)
from ied_workflow.follow_ups.queries import Filter
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPEN_ISSUE, OPS, SATISFIED, delivered, reached
from tests.support.database import snapshot


def refused(engine: Engine, error: type[Exception], action: object) -> str:
    """Run `action`, expect `error`, and prove that no row changed; return the message."""
    before = snapshot(engine)
    with pytest.raises(error) as raised:
        action()  # type: ignore[operator]
    assert snapshot(engine) == before
    message = str(raised.value)
    assert message and "\n" not in message
    return message


# --- the validation scenarios of the contract ---------------------------------


def test_lead_does_not_create_follow_up_until_operations_explicitly_needs_it(
    workflow: Workflow, engine: Engine
) -> None:
    workflow.upsert_lead("L-1", status="assigned", installer_id="I-7")
    assert snapshot(engine)["follow_ups"] == []
    follow_up = workflow.create("L-1", by=OPS, now=NOW)
    assert follow_up.created_by_email == OPS
    assert len(snapshot(engine)["follow_ups"]) == 1


def test_delivered_lead_can_create_one_primary_follow_up(
    workflow: Workflow, engine: Engine
) -> None:
    follow_up = delivered(workflow)
    assert (follow_up.status, follow_up.installer_id) == ("pending", "I-7")
    message = refused(engine, DuplicateFollowUp, lambda: workflow.create("L-1", by=OPS))
    assert "L-1" in message


def test_one_follow_up_per_lead_is_a_database_constraint(
    workflow: Workflow, engine: Engine
) -> None:
    follow_up = delivered(workflow)
    row = {c.name: getattr(follow_up, c.name) for c in tables.follow_ups.c if c.name != "id"}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(tables.follow_ups).values(row))


def test_due_follow_up_can_remain_pending_until_action_starts(workflow: Workflow) -> None:
    follow_up = delivered(workflow, due_at=NOW - timedelta(days=2))
    later = NOW + timedelta(days=5)
    assert workflow.get(follow_up.id).status == "pending"
    assert [f.id for f in workflow.find(Filter(overdue=True), later)] == [follow_up.id]
    assert workflow.get(follow_up.id).status == "pending"


def test_once_staff_begin_working_status_moves_to_in_progress(workflow: Workflow) -> None:
    follow_up = delivered(workflow)
    started = workflow.start(follow_up.id, by=OPS, now=NOW)
    assert started.status == "in_progress"
    assert started.started_at == NOW


def test_contact_and_satisfaction_with_no_open_issue_completes(workflow: Workflow) -> None:
    follow_up = reached(workflow)
    done = workflow.record_outcome(follow_up.id, by=OPS, outcome=SATISFIED, now=NOW)
    assert (done.status, done.satisfaction_outcome, done.has_issue) == (
        "completed",
        "satisfied",
        False,
    )
    assert done.completed_at == NOW


def test_contact_with_open_customer_issue_closes_with_issue(workflow: Workflow) -> None:
    follow_up = reached(workflow)
    closed = workflow.record_outcome(follow_up.id, by=OPS, outcome=OPEN_ISSUE, now=NOW)
    assert (closed.status, closed.has_issue, closed.issue_resolved) == (
        "closed_with_issue",
        True,
        False,
    )
    assert closed.issue_summary == "roof still leaks"


def test_follow_up_completion_does_not_change_lead_lifecycle(
    workflow: Workflow, engine: Engine
) -> None:
    workflow.upsert_lead("L-1", status="assigned", installer_id="I-7")
    workflow.upsert_lead("L-2", status="assigned", installer_id="I-8")
    leads_before = snapshot(engine)["leads"]
    for lead_id, outcome in (("L-1", SATISFIED), ("L-2", OPEN_ISSUE)):
        follow_up = workflow.create(lead_id, by=OPS, notes="check the quote")
        workflow.start(follow_up.id, by=OPS)
        workflow.log_contact(follow_up.id, by=OPS, outcome="no_response")
        workflow.log_contact(follow_up.id, by=OPS, outcome="reached_customer", note="called")
        workflow.reschedule(follow_up.id, due_at=NOW + timedelta(days=9), by=OPS)
        workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome)
        workflow.add_note(follow_up.id, text="all done", by=OPS)
    workflow.resolve_issue(2, by=OPS)
    assert snapshot(engine)["leads"] == leads_before


def test_dashboard_filters_due_in_progress_completed_and_issue_bearing(
    workflow: Workflow,
) -> None:
    pending = delivered(workflow, "L-1", due_at=NOW - timedelta(hours=1))
    working = delivered(workflow, "L-2", due_at=NOW + timedelta(days=3))
    workflow.start(working.id, by=OPS, now=NOW)
    done = reached(workflow, "L-3")
    workflow.record_outcome(done.id, by=OPS, outcome=SATISFIED, now=NOW)
    issue = reached(workflow, "L-4")
    workflow.record_outcome(issue.id, by=OPS, outcome=OPEN_ISSUE, now=NOW)

    def ids(**where: object) -> list[int]:
        return sorted(f.id for f in workflow.find(Filter(**where), NOW))  # type: ignore[arg-type]

    assert ids(due=True) == [pending.id]
    assert ids(statuses=["in_progress"]) == [working.id]
    assert ids(statuses=["completed"]) == [done.id]
    assert ids(has_issue=True) == [issue.id]
    assert ids(open_issue=True) == [issue.id]
    counts = workflow.dashboard(NOW)
    assert counts["due_today"] == 1 and counts["completed"] == 1 and counts["open_issue"] == 1


# --- guards: refused with a typed error and nothing written ---------------------


def test_completed_needs_reached_contact(workflow: Workflow, engine: Engine) -> None:
    follow_up = delivered(workflow)
    for outcome in ("attempted", "left_message", "no_response"):
        workflow.log_contact(follow_up.id, by=OPS, outcome=outcome, now=NOW)
    message = refused(
        engine,
        GuardFailed,
        lambda: workflow.record_outcome(follow_up.id, by=OPS, outcome=SATISFIED),
    )
    assert "reached the customer" in message


def test_scheduling_or_starting_alone_does_not_complete(workflow: Workflow, engine: Engine) -> None:
    follow_up = delivered(workflow)
    refused(
        engine,
        TransitionNotAllowed,
        lambda: workflow.record_outcome(follow_up.id, by=OPS, outcome=SATISFIED),
    )
    workflow.start(follow_up.id, by=OPS)
    workflow.reschedule(follow_up.id, due_at=NOW + timedelta(days=1), by=OPS)
    refused(
        engine,
        GuardFailed,
        lambda: workflow.record_outcome(follow_up.id, by=OPS, outcome=SATISFIED),
    )


def test_outcome_must_say_whether_there_is_an_issue(workflow: Workflow, engine: Engine) -> None:
    follow_up = reached(workflow)
    refused(
        engine,
        GuardFailed,
        lambda: workflow.record_outcome(
            follow_up.id, by=OPS, outcome=Outcome(has_issue=None, satisfaction=Satisfaction.MIXED)
        ),
    )


def test_issue_needs_a_non_empty_summary(workflow: Workflow, engine: Engine) -> None:
    follow_up = reached(workflow)
    for summary in (None, "", "   "):
        refused(
            engine,
            GuardFailed,
            lambda s=summary: workflow.record_outcome(
                follow_up.id, by=OPS, outcome=Outcome(has_issue=True, issue_summary=s)
            ),
        )


def test_issue_summary_without_issue_is_refused(workflow: Workflow, engine: Engine) -> None:
    follow_up = reached(workflow)
    refused(
        engine,
        GuardFailed,
        lambda: workflow.record_outcome(
            follow_up.id,
            by=OPS,
            outcome=Outcome(
                has_issue=False, satisfaction=Satisfaction.SATISFIED, issue_summary="nothing"
            ),
        ),
    )


def test_completed_needs_a_satisfaction_outcome(workflow: Workflow, engine: Engine) -> None:
    follow_up = reached(workflow)
    message = refused(
        engine,
        GuardFailed,
        lambda: workflow.record_outcome(follow_up.id, by=OPS, outcome=Outcome(has_issue=False)),
    )
    assert "satisfaction" in message


def test_unresolved_issue_uses_closed_with_issue_not_completed(workflow: Workflow) -> None:
    follow_up = reached(workflow)
    outcome = Outcome(has_issue=True, issue_summary="late", satisfaction=Satisfaction.SATISFIED)
    assert workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome).status == (
        "closed_with_issue"
    )


def test_issue_already_resolved_completes(workflow: Workflow) -> None:
    follow_up = reached(workflow)
    outcome = Outcome(
        has_issue=True,
        issue_summary="fixed on site",
        issue_resolved=True,
        satisfaction=Satisfaction.MIXED,
    )
    done = workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome)
    assert (done.status, done.has_issue, done.issue_resolved) == ("completed", True, True)


@pytest.mark.parametrize("outcome", [SATISFIED, OPEN_ISSUE], ids=["completed", "closed_with_issue"])
def test_terminal_states_reject_transitions_and_contact_logs(
    workflow: Workflow, engine: Engine, outcome: Outcome
) -> None:
    follow_up = reached(workflow)
    workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome)
    attempts = [
        lambda: workflow.start(follow_up.id, by=OPS),
        lambda: workflow.log_contact(follow_up.id, by=OPS, outcome="reached_customer"),
        lambda: workflow.record_outcome(follow_up.id, by=OPS, outcome=SATISFIED),
        lambda: workflow.reschedule(follow_up.id, due_at=NOW, by=OPS),
    ]
    for attempt in attempts:
        assert "follow-up" in refused(engine, TransitionNotAllowed, attempt)


def test_resolve_issue_keeps_closed_with_issue(workflow: Workflow, engine: Engine) -> None:
    follow_up = reached(workflow)
    workflow.record_outcome(follow_up.id, by=OPS, outcome=OPEN_ISSUE)
    resolved = workflow.resolve_issue(follow_up.id, by=OPS)
    assert (resolved.status, resolved.issue_resolved) == ("closed_with_issue", True)
    refused(engine, GuardFailed, lambda: workflow.resolve_issue(follow_up.id, by=OPS))


def test_resolve_issue_needs_closed_with_issue(workflow: Workflow, engine: Engine) -> None:
    follow_up = reached(workflow)
    refused(engine, TransitionNotAllowed, lambda: workflow.resolve_issue(follow_up.id, by=OPS))


def test_logging_contact_on_pending_starts_it(workflow: Workflow) -> None:
    follow_up = delivered(workflow)
    logged = workflow.log_contact(follow_up.id, by=OPS, outcome="left_message", now=NOW)
    assert (logged.status, logged.started_at, logged.contact_attempt_count) == (
        "in_progress",
        NOW,
        1,
    )
    assert (logged.last_contacted_by_email, logged.last_contact_outcome) == (OPS, "left_message")


def test_contact_summary_follows_the_latest_attempt(workflow: Workflow) -> None:
    follow_up = delivered(workflow)
    workflow.log_contact(follow_up.id, by=OPS, outcome="no_response", at=NOW, now=NOW)
    late_entry = workflow.log_contact(
        follow_up.id,
        by="other@ied.example",
        outcome="attempted",
        at=NOW - timedelta(hours=3),
        now=NOW,
    )
    assert late_entry.contact_attempt_count == 2
    assert (late_entry.last_contacted_at, late_entry.last_contact_outcome) == (NOW, "no_response")


def test_notes_can_be_appended_in_any_status(workflow: Workflow) -> None:
    follow_up = reached(workflow)
    workflow.record_outcome(follow_up.id, by=OPS, outcome=SATISFIED)
    noted = workflow.add_note(follow_up.id, text="customer sent photos", by=OPS)
    assert noted.notes == "customer sent photos" and noted.status == "completed"


def test_lead_must_be_eligible_and_have_an_installer(workflow: Workflow, engine: Engine) -> None:
    workflow.upsert_lead("L-new", status="new", installer_id="I-1")
    workflow.upsert_lead("L-orphan", status="assigned")
    refused(engine, LeadNotEligible, lambda: workflow.create("L-new", by=OPS))
    refused(engine, LeadNotEligible, lambda: workflow.create("L-orphan", by=OPS))
    refused(engine, NotFound, lambda: workflow.create("L-missing", by=OPS))


def test_due_date_defaults_to_policy_and_past_due_is_accepted(workflow: Workflow) -> None:
    follow_up = delivered(workflow)
    assert follow_up.due_at == NOW + timedelta(days=workflow.settings.default_due_days)
    late = delivered(workflow, "L-2", due_at=NOW - timedelta(days=1))
    assert workflow.count(Filter(overdue=True), NOW) == 1 and late.status == "pending"


def test_every_change_writes_one_audit_event(workflow: Workflow) -> None:
    follow_up = reached(workflow)
    workflow.record_outcome(follow_up.id, by=OPS, outcome=OPEN_ISSUE)
    workflow.resolve_issue(follow_up.id, by=OPS)
    events, attempts = workflow.history(follow_up.id)
    assert [(e.type, e.from_status, e.to_status) for e in events] == [
        ("created", None, "pending"),
        ("contact_logged", "pending", "in_progress"),
        ("outcome_recorded", "in_progress", "closed_with_issue"),
        ("issue_resolved", "closed_with_issue", "closed_with_issue"),
    ]
    assert [a.outcome for a in attempts] == ["reached_customer"]


def test_bad_values_are_refused_at_the_service_edge(workflow: Workflow, engine: Engine) -> None:
    follow_up = delivered(workflow)
    naive = NOW.replace(tzinfo=None)
    refused(engine, ValidationError, lambda: workflow.start(follow_up.id, by="not-an-email"))
    refused(
        engine,
        ValidationError,
        lambda: workflow.log_contact(follow_up.id, by=OPS, outcome="reached_the_moon"),
    )
    refused(
        engine, ValidationError, lambda: workflow.reschedule(follow_up.id, due_at=naive, by=OPS)
    )
    refused(engine, ValidationError, lambda: workflow.add_note(follow_up.id, text="a\x00b", by=OPS))
    refused(
        engine,
        ValidationError,
        lambda: workflow.log_contact(
            follow_up.id, by=OPS, outcome="attempted", at=NOW + timedelta(days=1), now=NOW
        ),
    )
    refused(engine, NotFound, lambda: workflow.start(999_999, by=OPS))


def test_stale_writer_loses_the_version_race(workflow: Workflow, engine: Engine) -> None:
    from ied_workflow.errors import ConcurrentModification
    from ied_workflow.follow_ups import repository

    follow_up = delivered(workflow)
    stale = workflow.get(follow_up.id)
    workflow.start(follow_up.id, by=OPS)
    with pytest.raises(ConcurrentModification), engine.begin() as conn:
        event = {
            "type": "note_added",
            "from_status": "pending",
            "to_status": "pending",
            "actor_email": OPS,
            "at": NOW,
            "data": {},
        }
        repository.save(conn, stale, {"notes": "lost update"}, event)
    assert workflow.get(follow_up.id).notes is None
    events, _ = workflow.history(follow_up.id)
    assert [e.type for e in events] == ["created", "started"]  # no event without its update
