"""Use cases of the follow-up workflow, each one unit of work.

Every function validates its inputs, locks the follow-up row, asks the state
machine, writes the change with its audit event (and any alert it causes) and
returns the follow-up. The time is the unit of work's; nothing here commits, and
nothing here writes the lead row.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from ied_workflow import states
from ied_workflow import validation as v
from ied_workflow.alerts import record
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import ContactOutcome, FollowUp, Lead, Outcome, Satisfaction
from ied_workflow.errors import (
    DuplicateFollowUp,
    LeadNotEligible,
    ValidationError,
    VersionMismatch,
)
from ied_workflow.follow_ups import repository

CLOCK_SKEW = timedelta(minutes=5)  # a contact logged "in the future" beyond this is a typo


def upsert_lead(
    uow: UnitOfWork, lead_id: str, *, status: str, installer_id: str | None = None
) -> Lead:
    """Mirror the host application's lead; the only writer of the leads table."""
    lead = Lead(
        id=v.identifier(lead_id, "lead id"),
        status=v.identifier(status, "lead status"),
        installer_id=None if installer_id is None else v.identifier(installer_id, "installer id"),
        updated_at=uow.now,
    )
    return repository.upsert_lead(uow.conn, lead)


def create(
    uow: UnitOfWork,
    lead_id: str,
    *,
    by: str,
    due_at: datetime | None = None,
    notes: str | None = None,
    eligible_statuses: Collection[str] = ("assigned",),
    default_due: timedelta = timedelta(days=3),
) -> FollowUp:
    """Open the one primary follow-up of an eligible, delivered lead."""
    by = v.email(by, "created by")
    notes = v.text(notes, "notes", max_length=v.NOTE_MAX)
    due_at = None if due_at is None else v.aware(due_at, "due at")
    lead = repository.get_lead(uow, v.identifier(lead_id, "lead id"))
    if lead.status not in eligible_statuses:
        allowed = ", ".join(sorted(eligible_statuses))
        raise LeadNotEligible(f"lead {lead.id} is {lead.status}; follow-up needs {allowed}")
    if lead.installer_id is None:
        raise LeadNotEligible(f"lead {lead.id} has no installer to follow up on")
    now = uow.now
    due_at = due_at or now + default_due
    follow_up = repository.insert_follow_up(
        uow.conn,
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
        existing = repository.follow_up_id_of_lead(uow.conn, lead.id)
        raise DuplicateFollowUp(f"lead {lead.id} already has follow-up {existing}", existing)
    event = _event(follow_up, "created", None, by, now, {"dueAt": due_at.isoformat()})
    repository.add_event(uow.conn, follow_up.id, **event)
    return follow_up


def start(
    uow: UnitOfWork, follow_up_id: int, *, by: str, expected_version: int | None = None
) -> FollowUp:
    """Staff begin working the follow-up: pending to in_progress."""
    by = v.email(by, "by")
    return _change(
        uow,
        _locked(uow, follow_up_id, expected_version),
        trigger="start",
        by=by,
        event_type="started",
        changes={"started_at": uow.now},
    )


def log_contact(
    uow: UnitOfWork,
    follow_up_id: int,
    *,
    by: str,
    outcome: str | ContactOutcome,
    at: datetime | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> FollowUp:
    """Record one contact attempt; on a pending follow-up it also starts the work."""
    by = v.email(by, "by")
    result = v.enum_value(ContactOutcome, outcome, "contact outcome")
    note = v.text(note, "note", max_length=v.NOTE_MAX)
    at = None if at is None else v.aware(at, "contacted at")
    follow_up = _locked(uow, follow_up_id, expected_version)
    now = uow.now
    at = at or now
    if at > now + CLOCK_SKEW:
        raise ValidationError("a contact cannot be logged in the future")
    attempt_id = repository.add_contact_attempt(
        uow.conn, follow_up_id=follow_up.id, at=at, by_email=by, outcome=result.value, note=note
    )  # a refusal below rolls it back with everything else
    changes: dict[str, Any] = {"contact_attempt_count": follow_up.contact_attempt_count + 1}
    if follow_up.started_at is None:
        changes["started_at"] = now
    if result is ContactOutcome.REACHED_CUSTOMER:
        changes["reached_customer"] = True
    if follow_up.last_contacted_at is None or at >= follow_up.last_contacted_at:
        changes.update(
            last_contacted_at=at, last_contacted_by_email=by, last_contact_outcome=result.value
        )
    data = {"attemptId": attempt_id, "outcome": result.value, "at": at.isoformat(), "note": note}
    return _change(
        uow,
        follow_up,
        trigger="log_contact",
        by=by,
        event_type="contact_logged",
        changes=changes,
        data=data,
    )


def record_outcome(
    uow: UnitOfWork,
    follow_up_id: int,
    *,
    by: str,
    outcome: Outcome,
    expected_version: int | None = None,
) -> FollowUp:
    """Close the follow-up: completed, or closed_with_issue (alerted) if an issue stays open."""
    by = v.email(by, "by")
    outcome = _validated_outcome(outcome)
    satisfaction = outcome.satisfaction and outcome.satisfaction.value
    follow_up = _locked(uow, follow_up_id, expected_version)
    changes: dict[str, Any] = {
        "completed_at": uow.now,
        "satisfaction_outcome": satisfaction,
        "has_issue": outcome.has_issue,
        "issue_summary": outcome.issue_summary,
        "issue_resolved": outcome.issue_resolved,
        "referral_opportunity": outcome.referral,
    }
    if outcome.notes:
        changes["notes"] = _appended(follow_up.notes, outcome.notes)
    data = {
        "satisfactionOutcome": satisfaction,
        "hasIssue": outcome.has_issue,
        "issueSummary": outcome.issue_summary,
        "issueResolved": outcome.issue_resolved,
        "referralOpportunity": outcome.referral,
        "notes": outcome.notes,
    }
    _change(
        uow,
        follow_up,
        trigger="record_outcome",
        by=by,
        event_type="outcome_recorded",
        changes=changes,
        data=data,
        outcome=outcome,
    )
    if outcome.issue_open:
        record.closed_with_issue(uow, follow_up)
    return follow_up


def resolve_issue(
    uow: UnitOfWork,
    follow_up_id: int,
    *,
    by: str,
    note: str | None = None,
    expected_version: int | None = None,
) -> FollowUp:
    """Mark the open issue handled; the follow-up stays closed_with_issue.

    An optional note (how it was handled) is appended to the notes and kept in the event.
    """
    by = v.email(by, "by")
    note = v.text(note, "note", max_length=v.NOTE_MAX)
    follow_up = _locked(uow, follow_up_id, expected_version)
    changes: dict[str, Any] = {"issue_resolved": True}
    if note:
        changes["notes"] = _appended(follow_up.notes, note)
    return _change(
        uow,
        follow_up,
        trigger="resolve_issue",
        by=by,
        event_type="issue_resolved",
        changes=changes,
        data={"note": note} if note else None,
    )


def reschedule(
    uow: UnitOfWork,
    follow_up_id: int,
    *,
    due_at: datetime,
    by: str,
    expected_version: int | None = None,
) -> FollowUp:
    """Move the due date of an open follow-up (which starts a new overdue episode)."""
    by = v.email(by, "by")
    due_at = v.aware(due_at, "due at")
    follow_up = _locked(uow, follow_up_id, expected_version)
    return _change(
        uow,
        follow_up,
        trigger="reschedule",
        by=by,
        event_type="rescheduled",
        changes={"due_at": due_at},
        data={"dueAt": due_at.isoformat(), "previous": follow_up.due_at.isoformat()},
    )


def add_note(
    uow: UnitOfWork,
    follow_up_id: int,
    *,
    text: str,
    by: str,
    expected_version: int | None = None,
) -> FollowUp:
    """Append a note, in any status."""
    by = v.email(by, "by")
    note = v.text(text, "note", max_length=v.NOTE_MAX, required=True) or ""
    follow_up = _locked(uow, follow_up_id, expected_version)
    return _change(
        uow,
        follow_up,
        trigger="add_note",
        by=by,
        event_type="note_added",
        changes={"notes": _appended(follow_up.notes, note)},
        data={"note": note},
    )


def _locked(uow: UnitOfWork, follow_up_id: int, expected_version: int | None = None) -> FollowUp:
    """The follow-up, its row locked until the unit of work ends.

    With `expected_version` (an HTTP If-Match), a caller who saw an older version is
    refused before anything is written: it would act on a follow-up it has not seen.
    The check follows the lock, so no writer can slip in between. The same statement
    reads the unit of work's instant when the clock is the database's.
    """
    follow_up = repository.get_locked(uow, v.positive_id(follow_up_id))
    if expected_version is not None and expected_version != follow_up.version:
        raise VersionMismatch(
            f"follow-up {follow_up.id} is at version {follow_up.version}, not {expected_version}",
            follow_up.version,
        )
    return follow_up


def _change(
    uow: UnitOfWork,
    follow_up: FollowUp,
    *,
    trigger: str,
    by: str,
    event_type: str,
    changes: dict[str, Any],
    data: dict[str, Any] | None = None,
    **machine_args: Any,
) -> FollowUp:
    """Fire `trigger`, then write `changes` and the audit event.

    The one shape of every change to a follow-up: the machine says the new status,
    and the row and its event are written together, guarded by the version read.
    """
    before = follow_up.status
    states.fire(follow_up, trigger, **machine_args)
    event = _event(follow_up, event_type, before, by, uow.now, data or {})
    changes = {**changes, "status": follow_up.status, "updated_at": uow.now}
    repository.save(uow.conn, follow_up, changes, event)
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
