"""What a channel is asked to deliver: one message about one or more follow-ups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Why operations is being told."""

    OVERDUE = "overdue"
    CLOSED_WITH_ISSUE = "closed_with_issue"
    DIGEST = "digest"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One follow-up as an alert shows it; customer text is raw here, escaped on render."""

    follow_up_id: int
    lead_id: str
    installer_id: str | None
    status: str
    due_at: datetime
    contact_attempt_count: int
    last_contact_outcome: str | None = None
    issue_summary: str | None = None

    @classmethod
    def of(cls, follow_up: Any) -> AlertItem:
        """The item for a follow-up, or any row with the follow-up's column names."""
        names = [f.name for f in fields(cls) if f.name != "follow_up_id"]
        return cls(follow_up_id=follow_up.id, **{name: getattr(follow_up, name) for name in names})


@dataclass(frozen=True, slots=True)
class Message:
    """One message per channel per batch; `key` is stable across resends of the same rows."""

    kind: Kind
    key: str
    now: datetime
    items: tuple[AlertItem, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)  # the digest's figures
