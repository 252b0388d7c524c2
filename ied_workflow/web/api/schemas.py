"""Request and response bodies, in the contract's camelCase names.

Requests forbid unknown fields, so a body that names an actor (`by`,
`createdByEmail`, `actorEmail`, ...) is refused with 422: the actor of every change
is the authenticated user. Text limits repeat `validation.py`'s for the OpenAPI
document; the service checks them again, as for every edge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from ied_workflow import validation as v
from ied_workflow.domain import ContactOutcome, Satisfaction, Status

ID_PATTERN = f"^{v.ID_PATTERN.pattern}$"
# Datetimes go out as serialize.py prints them (isoformat, "+00:00"), as the CLI does.
Instant = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
Note = Annotated[str, Field(max_length=v.NOTE_MAX)]


class Out(BaseModel):
    """A response body: camelCase out, read from domain objects by attribute."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class In(BaseModel):
    """A request body: camelCase names only, and no field the API does not know."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid")


class LeadIn(In):
    status: Identifier
    installer_id: Identifier | None = None


class LeadOut(Out):
    id: str
    status: str
    installer_id: str | None
    updated_at: Instant


class FollowUpOut(Out):
    """Every field of the follow-up record, as the contract names them."""

    id: int
    lead_id: str
    installer_id: str | None
    status: Status
    due_at: Instant
    created_at: Instant
    created_by_email: str
    updated_at: Instant
    version: int
    started_at: Instant | None
    completed_at: Instant | None
    contact_attempt_count: int
    last_contacted_at: Instant | None
    last_contacted_by_email: str | None
    last_contact_outcome: ContactOutcome | None
    reached_customer: bool
    satisfaction_outcome: Satisfaction | None
    has_issue: bool | None
    issue_summary: str | None
    issue_resolved: bool
    referral_opportunity: bool
    notes: str | None


class FollowUpPage(Out):
    items: list[FollowUpOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class CreateFollowUp(In):
    lead_id: Identifier
    due_at: AwareDatetime | None = None
    notes: Note | None = None


class ContactAttemptIn(In):
    outcome: ContactOutcome
    note: Note | None = None


class OutcomeIn(In):
    has_issue: StrictBool
    satisfaction: Satisfaction | None = None
    issue_summary: Annotated[str, Field(max_length=v.SUMMARY_MAX)] | None = None
    issue_resolved: StrictBool = False
    referral_opportunity: StrictBool = False
    notes: Note | None = None


class NoBody(In):
    """An action that takes nothing: an empty object, or no body at all."""


class ResolveIssueIn(In):
    note: Note | None = None


class RescheduleIn(In):
    due_at: AwareDatetime


class NoteIn(In):
    note: Note


class EventOut(Out):
    id: int
    follow_up_id: int
    type: str
    from_status: Status | None
    to_status: Status | None
    actor_email: str
    at: Instant
    data: dict[str, Any]


class AttemptOut(Out):
    id: int
    follow_up_id: int
    at: Instant
    by_email: str
    outcome: ContactOutcome
    note: str | None


class HistoryOut(Out):
    events: list[EventOut]
    attempts: list[AttemptOut]


DashboardFilter = Literal[
    "pending",
    "inProgress",
    "completed",
    "closedWithIssue",
    "dueToday",
    "overdue",
    "hasIssue",
    "openIssue",
]
CAPPED = "; past `countCap` this is `countCap` and the filter is listed in `capped`"


class DashboardOut(Out):
    """The count behind each dashboard filter, as the console shows them: exact up to
    `countCap`, then "more than countCap" (the console's "10,000+")."""

    pending: int = Field(description="Pending follow-ups" + CAPPED)
    in_progress: int = Field(description="Follow-ups in progress" + CAPPED)
    completed: int = Field(description="Completed follow-ups" + CAPPED)
    closed_with_issue: int = Field(description="Follow-ups closed with an issue" + CAPPED)
    due_today: int = Field(description="Open follow-ups due before today ends" + CAPPED)
    overdue: int = Field(description="Open follow-ups past their due time" + CAPPED)
    has_issue: int = Field(description="Follow-ups that recorded an issue" + CAPPED)
    open_issue: int = Field(description="Follow-ups whose issue is unresolved" + CAPPED)
    count_cap: int = Field(
        description="Counting stops past this many (an exact count of history would scan it all)"
    )
    capped: list[DashboardFilter] = Field(
        description="The filters that hold more than `countCap` follow-ups; their count "
        "reads `countCap`. Empty when every count is exact."
    )
    counted_at: Instant = Field(
        description="When these counts were taken, on the database's clock: a server shares "
        "them between requests, so counts may be up to IED_DASHBOARD_COUNTS_SECONDS old"
    )


class NotificationOut(Out):
    """One alert's delivery on one channel."""

    id: int
    alert_id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: Instant
    claimed_until: Instant | None
    last_error: str | None
    sent_at: Instant | None
    kind: str
    follow_up_id: int | None
    episode_key: str
    created_at: Instant


class NotificationPage(Out):
    items: list[NotificationOut]


class Health(Out):
    status: str
