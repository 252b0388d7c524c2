"""Alert messages for the tests: builders, and what a rendering shows a reader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ied_workflow.alerts.message import AlertItem, Kind, Message
from tests.support.data import NOW


def alert_item(follow_up_id: int = 12, **overrides: Any) -> AlertItem:
    """A follow-up 3 h 20 min overdue, with two attempts; any field overridable."""
    values: dict[str, Any] = {
        "follow_up_id": follow_up_id,
        "lead_id": "L-100",
        "installer_id": "INST-7",
        "status": "in_progress",
        "due_at": NOW - timedelta(hours=3, minutes=20),
        "contact_attempt_count": 2,
        "last_contact_outcome": "no_answer",
    }
    return AlertItem(**(values | overrides))


def alert_message(*items: AlertItem, kind: Kind = Kind.OVERDUE, **overrides: Any) -> Message:
    """A message about `items` (one overdue follow-up when none given), at NOW."""
    values: dict[str, Any] = {"kind": kind, "key": "overdue:12:0", "now": NOW}
    return Message(items=items or (alert_item(),), **(values | overrides))


def texts(payload: Any) -> Iterator[str]:
    """Every string inside a Slack payload, however deep."""
    if isinstance(payload, str):
        yield payload
    elif isinstance(payload, dict):
        for value in payload.values():
            yield from texts(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from texts(value)


def visible(rendering: str) -> str:
    """The words a reader sees: Slack dates as their fallback, tags, colons and layout
    whitespace dropped."""
    dated = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", rendering)
    return " ".join(re.sub(r"<[^>]+>|:(?=\s)", " ", dated).split())
