"""The follow-up record and its vocabularies, free of any database or framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """The four V1 follow-up statuses; nothing else is a status."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED_WITH_ISSUE = "closed_with_issue"


OPEN_STATUSES = (Status.PENDING, Status.IN_PROGRESS)
TERMINAL_STATUSES = (Status.COMPLETED, Status.CLOSED_WITH_ISSUE)


class ContactOutcome(StrEnum):
    """What one contact attempt achieved."""

    ATTEMPTED = "attempted"
    LEFT_MESSAGE = "left_message"
    NO_RESPONSE = "no_response"
    REACHED_CUSTOMER = "reached_customer"


class Satisfaction(StrEnum):
    """How the customer felt; kept apart from the status on purpose."""

    SATISFIED = "satisfied"
    MIXED = "mixed"
    UNSATISFIED = "unsatisfied"


class Role(StrEnum):
    """What an API user may do: each role can do everything the one before it can."""

    VIEWER = "viewer"  # reads
    OPERATOR = "operator"  # also changes follow-ups and upserts leads
    ADMIN = "admin"  # also lists and retries failed notifications


@dataclass(slots=True)
class Outcome:
    """What staff record when the follow-up conversation is over."""

    has_issue: bool | None
    satisfaction: Satisfaction | None = None
    issue_summary: str | None = None
    issue_resolved: bool = False
    referral: bool = False
    notes: str | None = None

    @property
    def issue_open(self) -> bool:
        return bool(self.has_issue) and not self.issue_resolved


@dataclass(slots=True)
class Lead:
    """The host application's lead, mirrored read-only."""

    id: str
    status: str
    installer_id: str | None
    updated_at: datetime


@dataclass(slots=True)
class FollowUp:
    """One post-delivery follow-up, field for field as the contract recommends."""

    id: int
    lead_id: str
    installer_id: str | None
    status: str
    due_at: datetime
    created_at: datetime
    created_by_email: str
    updated_at: datetime
    version: int
    started_at: datetime | None = None
    completed_at: datetime | None = None
    contact_attempt_count: int = 0
    last_contacted_at: datetime | None = None
    last_contacted_by_email: str | None = None
    last_contact_outcome: str | None = None
    reached_customer: bool = False
    satisfaction_outcome: str | None = None
    has_issue: bool | None = None
    issue_summary: str | None = None
    issue_resolved: bool = False
    referral_opportunity: bool = False
    notes: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """Open and past its due date: the same rule `queries.conditions` writes in SQL."""
        return self.is_open and self.due_at < now


@dataclass(slots=True, frozen=True)
class ContactAttempt:
    """One logged attempt to reach the customer."""

    id: int
    follow_up_id: int
    at: datetime
    by_email: str
    outcome: str
    note: str | None


@dataclass(slots=True, frozen=True)
class Event:
    """One audit row: what changed, from which status to which, by whom, when."""

    id: int
    follow_up_id: int
    type: str
    from_status: str | None
    to_status: str | None
    actor_email: str
    at: datetime
    data: dict[str, object]
