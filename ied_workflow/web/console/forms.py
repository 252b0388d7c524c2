"""The action forms of the detail page: how each trigger of the machine is asked for.

Which forms appear is the machine's answer (`states.allowed_triggers`); this module
only says how each trigger looks as a form: its button, its path and its fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ied_workflow import states
from ied_workflow.domain import FollowUp
from ied_workflow.errors import ValidationError


@dataclass(frozen=True, slots=True)
class ActionForm:
    """One action as a form: `fields` names the template's field blocks, in order."""

    trigger: str
    button: str
    slug: str  # /follow-ups/{id}/{slug}
    fields: tuple[str, ...]
    hint: str


FORMS = {
    form.trigger: form
    for form in (
        ActionForm("start", "Start", "start", (), "Staff begin working this follow-up."),
        ActionForm("log_contact", "Log contact", "contact", ("outcome", "note"),
                   "One attempt to reach the customer."),
        ActionForm("record_outcome", "Record outcome", "outcome",
                   ("has_issue", "satisfaction", "issue_summary", "issue_resolved", "referral",
                    "notes"),
                   "Close the follow-up once the customer was reached."),
        ActionForm("resolve_issue", "Resolve issue", "resolve", ("note",),
                   "The customer's issue was handled; the follow-up stays closed."),
        ActionForm("reschedule", "Reschedule", "reschedule", ("due_at",),
                   "Move the due date."),
        ActionForm("add_note", "Add note", "note", ("note",), "Appended to the notes."),
    )
}  # fmt: skip


def allowed_forms(follow_up: FollowUp) -> list[ActionForm]:
    """The forms of the actions the machine allows from the follow-up's status, in the
    order people work (start, contact, outcome, ...), not the machine's alphabetical one."""
    allowed = set(states.allowed_triggers(follow_up.status))
    return [form for trigger, form in FORMS.items() if trigger in allowed]


def yes_no(value: str | None) -> bool | None:
    """A yes/no select: '' (not chosen) is None, so the rule asks for an explicit answer."""
    return {"yes": True, "no": False}.get((value or "").strip().lower())


def local_datetime(value: str, zone: ZoneInfo) -> datetime:
    """A datetime-local field ('2026-11-30T09:00'), read in the operations timezone."""
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError("Due at must be a date and time, e.g. 2026-11-30 09:00") from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=zone)


def local_input(moment: datetime, zone: ZoneInfo) -> str:
    """The value a datetime-local field shows for `moment`."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
