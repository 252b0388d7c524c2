"""How the detail page words a follow-up's values and its history entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ied_workflow import labels
from ied_workflow.domain import Event

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
