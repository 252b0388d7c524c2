"""Use cases of the follow-up workflow, each one transaction on a caller's connection.

Every function validates its inputs, locks the follow-up row, asks the state
machine, writes the change with its audit event (and outbox rows) and returns the
follow-up. Nothing here commits, and nothing here writes the lead row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from ied_workflow import outbox, repository, states
from ied_workflow import validation as v
from ied_workflow.domain import ContactOutcome, FollowUp, Lead, Outcome, Satisfaction
from ied_workflow.errors import DuplicateFollowUp, LeadNotEligible, ValidationError

CLOCK_SKEW = timedelta(minutes=5)  # a contact logged "in the future" beyond this is a typo


def utcnow() -> datetime:
    return datetime.now(UTC)


def upsert_lead(
    conn: Connection,
    lead_id: str,
    *,
    status: str,
    installer_id: str | None = None,
    now: datetime | None = None,
) -> Lead:
    """Mirror the host application's lead; the only writer of the leads table."""
    lead = Lead(
        id=v.identifier(lead_id, "lead id"),
        status=v.identifier(status, "lead status"),
        installer_id=None if installer_id is None else v.identifier(installer_id, "installer id"),
        updated_at=now or utcnow(),
    )
    return repository.upsert_lead(conn, lead)


def create(
    conn: Connection,
    lead_id: str,
    *,
    by: str,
    due_at: datetime | None = None,
    notes: str | None = None,
    eligible_statuses: Collection[str] = ("assigned",),
    default_due: timedelta = timedelta(days=3),
    now: datetime | None = None,
) -> FollowUp:
    """Open the one primary follow-up of an eligible, delivered lead."""
    by = v.email(by, "created by")
    notes = v.text(notes, "notes", max_length=v.NOTE_MAX)
    now = now or utcnow()
    due_at = now + default_due if due_at is None else v.aware(due_at, "due at")
    lead = repository.get_lead(conn, v.identifier(lead_id, "lead id"))
    if lead.status not in eligible_statuses:
        allowed = ", ".join(sorted(eligible_statuses))
        raise LeadNotEligible(f"lead {lead.id} is {lead.status}; follow-up needs {allowed}")
    if lead.installer_id is None:
        raise LeadNotEligible(f"lead {lead.id} has no installer to follow up on")
    follow_up = repository.insert_follow_up(
        conn,
        {
            "lead_id": lead.id,
            "installer_id": lead.installer_id,
            "status": states.PENDING,
            "due_at": due_at,
            "notes": notes,
            "created_at": now,
            "created_by_email": by,
            "updated_at": now,
            "version": 1,
            "contact_attempt_count": 0,
            "reached_customer": False,
            "issue_resolved": False,
            "referral_opportunity": False,
        },
    )
    if follow_up is None:
        raise DuplicateFollowUp(f"lead {lead.id} already has a follow-up")
    event = _event(follow_up, "created", None, by, now, {"dueAt": due_at.isoformat()})
    repository.add_event(conn, follow_up.id, **event)
    return follow_up


def start(conn: Connection, follow_up_id: int, *, by: str, now: datetime | None = None) -> FollowUp:
    """Staff begin working the follow-up: pending to in_progress."""
    now = now or utcnow()
    return _change(conn, follow_up_id, "start", by, now, {"started_at": now}, "started", {})


def log_contact(
    conn: Connection,
    follow_up_id: int,
    *,
    by: str,
    outcome: str | ContactOutcome,
    at: datetime | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> FollowUp:
    """Record one contact attempt; on a pending follow-up it also starts the work."""
    by = v.email(by, "by")
    result = v.enum_value(ContactOutcome, outcome, "contact outcome")
    note = v.text(note, "note", max_length=v.NOTE_MAX)
    now = now or utcnow()
    at = now if at is None else v.aware(at, "contacted at")
    if at > now + CLOCK_SKEW:
        raise ValidationError("a contact cannot be logged in the future")
    follow_up = repository.get(conn, v.positive_id(follow_up_id), lock=True)
    before = follow_up.status
    states.fire(follow_up, "log_contact")
    attempt_id = repository.add_contact_attempt(
        conn, follow_up_id=follow_up.id, at=at, by_email=by, outcome=result.value, note=note
    )
    changes: dict[str, Any] = {
        "status": follow_up.status,
        "updated_at": now,
        "contact_attempt_count": follow_up.contact_attempt_count + 1,
    }
    if follow_up.started_at is None:
        changes["started_at"] = now
    if result is ContactOutcome.REACHED_CUSTOMER:
        changes["reached_customer"] = True
    if follow_up.last_contacted_at is None or at >= follow_up.last_contacted_at:
        changes.update(
            last_contacted_at=at, last_contacted_by_email=by, last_contact_outcome=result.value
        )
    data = {"attemptId": attempt_id, "outcome": result.value, "at": at.isoformat(), "note": note}
    repository.save(
        conn, follow_up, changes, _event(follow_up, "contact_logged", before, by, now, data)
    )
    return follow_up


def record_outcome(
    conn: Connection,
    follow_up_id: int,
    *,
    by: str,
    outcome: Outcome,
    alert_channels: Sequence[str] = (),
    now: datetime | None = None,
) -> FollowUp:
    """Close the follow-up: completed, or closed_with_issue when an issue stays open."""
    by = v.email(by, "by")
    outcome = _validated_outcome(outcome)
    now = now or utcnow()
    follow_up = repository.get(conn, v.positive_id(follow_up_id), lock=True)
    before = follow_up.status
    states.fire(follow_up, "record_outcome", outcome=outcome)
    changes: dict[str, Any] = {
        "status": follow_up.status,
        "completed_at": now,
        "updated_at": now,
        "satisfaction_outcome": outcome.satisfaction and outcome.satisfaction.value,
        "has_issue": outcome.has_issue,
        "issue_summary": outcome.issue_summary,
        "issue_resolved": outcome.issue_resolved,
        "referral_opportunity": outcome.referral,
    }
    if outcome.notes:
        changes["notes"] = _appended(follow_up.notes, outcome.notes)
    data = {
        "satisfactionOutcome": changes["satisfaction_outcome"],
        "hasIssue": outcome.has_issue,
        "issueSummary": outcome.issue_summary,
        "issueResolved": outcome.issue_resolved,
        "referralOpportunity": outcome.referral,
        "notes": outcome.notes,
    }
    event = _event(follow_up, "outcome_recorded", before, by, now, data)
    repository.save(conn, follow_up, changes, event)
    if follow_up.status == states.CLOSED_WITH_ISSUE:
        outbox.closed_with_issue(conn, follow_up, alert_channels, now)
    return follow_up


def resolve_issue(
    conn: Connection, follow_up_id: int, *, by: str, now: datetime | None = None
) -> FollowUp:
    """Mark the open issue handled; the follow-up stays closed_with_issue."""
    now = now or utcnow()
    changes = {"issue_resolved": True}
    return _change(conn, follow_up_id, "resolve_issue", by, now, changes, "issue_resolved", {})


def reschedule(
    conn: Connection, follow_up_id: int, *, due_at: datetime, by: str, now: datetime | None = None
) -> FollowUp:
    """Move the due date of an open follow-up (which starts a new overdue episode)."""
    due_at = v.aware(due_at, "due at")
    data = {"dueAt": due_at.isoformat()}
    now = now or utcnow()
    return _change(
        conn,
        follow_up_id,
        "reschedule",
        by,
        now,
        {"due_at": due_at},
        "rescheduled",
        data,
        previous="due_at",
    )


def add_note(
    conn: Connection, follow_up_id: int, *, text: str, by: str, now: datetime | None = None
) -> FollowUp:
    """Append a note, in any status."""
    note = v.text(text, "note", max_length=v.NOTE_MAX, required=True)
    now = now or utcnow()
    follow_up = repository.get(conn, v.positive_id(follow_up_id), lock=True)
    changes = {"notes": _appended(follow_up.notes, note or "")}
    return _change(conn, follow_up, "add_note", by, now, changes, "note_added", {"note": note})


def _change(
    conn: Connection,
    follow_up_or_id: FollowUp | int,
    trigger: str,
    by: str,
    now: datetime,
    changes: dict[str, Any],
    event_type: str,
    data: dict[str, Any],
    previous: str | None = None,
) -> FollowUp:
    """Lock, fire `trigger`, write `changes` and the audit event: the shared shape."""
    by = v.email(by, "by")
    follow_up = (
        follow_up_or_id
        if isinstance(follow_up_or_id, FollowUp)
        else (repository.get(conn, v.positive_id(follow_up_or_id), lock=True))
    )
    if previous is not None:
        old = getattr(follow_up, previous)
        data["previous"] = old.isoformat() if isinstance(old, datetime) else old
    before = follow_up.status
    states.fire(follow_up, trigger)
    event = _event(follow_up, event_type, before, by, now, data)
    repository.save(
        conn, follow_up, {**changes, "status": follow_up.status, "updated_at": now}, event
    )
    return follow_up


def _event(
    follow_up: FollowUp,
    event_type: str,
    before: str | None,
    by: str,
    now: datetime,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The audit row of a change: what, from which status to which, by whom, when."""
    return {
        "type": event_type,
        "from_status": before,
        "to_status": follow_up.status,
        "actor_email": by,
        "at": now,
        "data": data,
    }


def _validated_outcome(outcome: Outcome) -> Outcome:
    satisfaction = outcome.satisfaction
    return Outcome(
        has_issue=outcome.has_issue,
        satisfaction=None
        if satisfaction is None
        else v.enum_value(Satisfaction, satisfaction, "satisfaction"),
        issue_summary=v.text(outcome.issue_summary, "issue summary", max_length=v.SUMMARY_MAX),
        issue_resolved=bool(outcome.issue_resolved),
        referral=bool(outcome.referral),
        notes=v.text(outcome.notes, "notes", max_length=v.NOTE_MAX),
    )


def _appended(notes: str | None, note: str) -> str:
    combined = note if not notes else f"{notes}\n{note}"
    if len(combined) > v.NOTES_TOTAL_MAX:
        raise ValidationError(f"notes would exceed {v.NOTES_TOTAL_MAX} characters")
    return combined
