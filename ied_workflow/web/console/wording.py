"""How the detail page words a follow-up's values and its history entries.

The timeline and the history are lines whose texts are computed here, once per entry:
a template calling a helper per cell was over a third of the page's CPU with 50 entries
(as for the list's rows, `rows.py`). The texts stay plain strings that the template
escapes like any other value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ied_workflow import labels
from ied_workflow.domain import ContactAttempt, Event
from ied_workflow.web.console.times import Formatter

# An audit event's data, in the order shown, with how each value reads.
DETAIL_LABELS = {
    "outcome": "Outcome",
    "at": "Contact at",
    "dueAt": "Due at",
    "previous": "Was due",
    "satisfactionOutcome": "Satisfaction",
    "hasIssue": "Has issue",
    "issueSummary": "Issue summary",
    "issueResolved": "Issue resolved",
    "referralOpportunity": "Referral opportunity",
    "note": "Note",
    "notes": "Note",
}
INSTANTS = {"at", "dueAt", "previous"}


@dataclass(frozen=True, slots=True)
class AttemptLine:
    """One contact attempt as the timeline shows it."""

    outcome: str  # the code, for the line's class
    at_iso: str
    at: str
    outcome_label: str
    by: str
    note: str


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One audit event as a row of the history table."""

    at_iso: str
    at: str
    what: str
    change: str  # 'Pending → In progress'; '' when the status stayed
    actor: str
    details: list[tuple[str, str]]


def attempt_lines(attempts: Iterable[ContactAttempt], fmt: Formatter) -> list[AttemptLine]:
    """The timeline, newest first."""
    return [
        AttemptLine(
            outcome=attempt.outcome,
            at_iso=fmt.iso(attempt.at),
            at=fmt.when(attempt.at),
            outcome_label=labels.contact_outcome(attempt.outcome),
            by=attempt.by_email,
            note=attempt.note or "",
        )
        for attempt in reversed(list(attempts))
    ]


def history_lines(events: Iterable[Event], fmt: Formatter) -> list[HistoryLine]:
    """The history table, newest first."""
    return [
        HistoryLine(
            at_iso=fmt.iso(event.at),
            at=fmt.when(event.at),
            what=labels.event(event.type),
            change=_change(event),
            actor=event.actor_email,
            details=event_details(event, fmt.when),
        )
        for event in reversed(list(events))
    ]


def _change(event: Event) -> str:
    if event.from_status == event.to_status:
        return ""
    before = labels.status(event.from_status) if event.from_status else "—"
    after = labels.status(event.to_status) if event.to_status else "—"
    return f"{before} → {after}"


def yes_no(value: bool | None) -> str:
    return "Not recorded" if value is None else ("Yes" if value else "No")


def event_details(event: Event, when: Callable[[datetime], str]) -> list[tuple[str, str]]:
    """The (label, text) lines of an audit event's data; empty values are left out."""
    lines = []
    for key, label in DETAIL_LABELS.items():
        value = event.data.get(key)
        if value is None or value == "":
            continue
        lines.append((label, _text(key, value, when)))
    return lines


def _text(key: str, value: Any, when: Callable[[datetime], str]) -> str:
    if isinstance(value, bool):
        return yes_no(value)
    if key in INSTANTS:
        try:
            return when(datetime.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if key == "outcome":
        return labels.contact_outcome(str(value))
    if key == "satisfactionOutcome":
        return labels.satisfaction(str(value))
    return str(value)
