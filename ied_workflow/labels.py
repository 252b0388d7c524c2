"""The words people read for the contract's values: one place for pages and alerts.

The stored values stay the contract's (`closed_with_issue`); people read "Closed with
an open issue". A value without a label (an old row, a test's own) is shown readably
rather than refused, since a label is never a rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ied_workflow.domain import TERMINAL_STATUSES, ContactOutcome, Satisfaction, Status

STATUS: dict[str, str] = {
    Status.PENDING: "Pending",
    Status.IN_PROGRESS: "In progress",
    Status.COMPLETED: "Completed",
    Status.CLOSED_WITH_ISSUE: "Closed with an open issue",
}
CLOSED_ISSUE_RESOLVED = "Closed, issue since resolved"
CONTACT_OUTCOME: dict[str, str] = {
    ContactOutcome.ATTEMPTED: "Attempted",
    ContactOutcome.LEFT_MESSAGE: "Left a message",
    ContactOutcome.NO_RESPONSE: "No response",
    ContactOutcome.REACHED_CUSTOMER: "Reached the customer",
}
SATISFACTION: dict[str, str] = {
    Satisfaction.SATISFIED: "Satisfied",
    Satisfaction.MIXED: "Mixed",
    Satisfaction.UNSATISFIED: "Unsatisfied",
}
EVENT: dict[str, str] = {
    "created": "Created",
    "started": "Started",
    "contact_logged": "Contact logged",
    "outcome_recorded": "Outcome recorded",
    "issue_resolved": "Issue resolved",
    "rescheduled": "Rescheduled",
    "note_added": "Note added",
}


def _fallback(value: str) -> str:
    return value.replace("_", " ").strip().capitalize()


def status(value: str, *, issue_resolved: bool = False) -> str:
    """A status as people read it; a closed issue handled since says so."""
    if value == Status.CLOSED_WITH_ISSUE and issue_resolved:
        return CLOSED_ISSUE_RESOLVED
    return STATUS.get(value, _fallback(value))


def contact_outcome(value: str | None) -> str:
    return "" if value is None else CONTACT_OUTCOME.get(value, _fallback(value))


def satisfaction(value: str | None) -> str:
    return "" if value is None else SATISFACTION.get(value, _fallback(value))


def event(value: str) -> str:
    return EVENT.get(value, _fallback(value))


def humanise(delta: timedelta) -> str:
    """A duration as operations reads it: '45 min', '3 h 20 min', '1 day 4 h', '3 days'.

    From two days on, whole days rounded to the nearest (2 days 23 h is "3 days", not
    "2 days"), so a countdown never looks further off, nor a delay shorter, than it is
    by more than half a day. Below a minute it says so rather than "0 min".
    """
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    if hours < 48:
        rest = hours - 24
        return f"1 day {rest} h" if rest else "1 day"
    return f"{int(minutes / (24 * 60) + 0.5)} days"


def due_timing(status: str, due_at: datetime, now: datetime) -> str:
    """'3 h 20 min overdue' or 'due in 2 days'; nothing for a closed follow-up (no countdown)."""
    if status in TERMINAL_STATUSES:
        return ""
    late = now - due_at
    return f"{humanise(late)} overdue" if late > timedelta(0) else f"due in {humanise(-late)}"
