"""/api/v1/follow-ups/{id}/...: the contract's actions, each answering the follow-up.

The actor is always the authenticated user. An If-Match naming an older version is
refused by the service after it locks the row (412), so nothing changes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Response

from ied_workflow.domain import Outcome
from ied_workflow.web import http
from ied_workflow.web.auth import Operator, WorkflowDep
from ied_workflow.web.routers import PREFIX
from ied_workflow.web.routers.follow_ups import FollowUpId
from ied_workflow.web.schemas import (
    ContactAttemptIn,
    FollowUpOut,
    NoBody,
    NoteIn,
    OutcomeIn,
    RescheduleIn,
    ResolveIssueIn,
)

router = APIRouter(prefix=f"{PREFIX}/follow-ups/{{id}}", tags=["actions"])
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description='The ETag last read, e.g. "3".')
]


@router.post("/start", response_model=FollowUpOut)
def start(
    follow_up_id: FollowUpId,
    wf: WorkflowDep,
    who: Operator,
    if_match: IfMatch = None,
    body: Annotated[NoBody | None, Body()] = None,
) -> Response:
    """Staff begin working it: pending to in_progress."""
    version = http.expected_version(if_match)
    follow_up = wf.start(follow_up_id, by=who.email, expected_version=version)
    return http.answer(follow_up)


@router.post("/contact-attempts", response_model=FollowUpOut)
def log_contact(
    follow_up_id: FollowUpId,
    body: ContactAttemptIn,
    wf: WorkflowDep,
    who: Operator,
    if_match: IfMatch = None,
) -> Response:
    """Log one attempt to reach the customer (it starts a pending follow-up)."""
    follow_up = wf.log_contact(
        follow_up_id,
        by=who.email,
        outcome=body.outcome,
        note=body.note,
        expected_version=http.expected_version(if_match),
    )
    return http.answer(follow_up)


@router.post("/outcome", response_model=FollowUpOut)
def record_outcome(
    follow_up_id: FollowUpId,
    body: OutcomeIn,
    wf: WorkflowDep,
    who: Operator,
    if_match: IfMatch = None,
) -> Response:
    """Close it: completed, or closed_with_issue while an issue stays open."""
    outcome = Outcome(
        has_issue=body.has_issue,
        satisfaction=body.satisfaction,
        issue_summary=body.issue_summary,
        issue_resolved=body.issue_resolved,
        referral=body.referral_opportunity,
        notes=body.notes,
    )
    version = http.expected_version(if_match)
    follow_up = wf.record_outcome(
        follow_up_id, by=who.email, outcome=outcome, expected_version=version
    )
    return http.answer(follow_up)


@router.post("/resolve-issue", response_model=FollowUpOut)
def resolve_issue(
    follow_up_id: FollowUpId,
    wf: WorkflowDep,
    who: Operator,
    if_match: IfMatch = None,
    body: Annotated[ResolveIssueIn | None, Body()] = None,
) -> Response:
    """Mark the open issue handled; the follow-up stays closed_with_issue."""
    note = body.note if body else None
    version = http.expected_version(if_match)
    follow_up = wf.resolve_issue(follow_up_id, by=who.email, note=note, expected_version=version)
    return http.answer(follow_up)


@router.post("/reschedule", response_model=FollowUpOut)
def reschedule(
    follow_up_id: FollowUpId,
    body: RescheduleIn,
    wf: WorkflowDep,
    who: Operator,
    if_match: IfMatch = None,
) -> Response:
    """Move the due date of an open follow-up."""
    version = http.expected_version(if_match)
    follow_up = wf.reschedule(
        follow_up_id, due_at=body.due_at, by=who.email, expected_version=version
    )
    return http.answer(follow_up)


@router.post("/notes", response_model=FollowUpOut)
def add_note(
    follow_up_id: FollowUpId,
    body: NoteIn,
    wf: WorkflowDep,
    who: Operator,
    if_match: IfMatch = None,
) -> Response:
    """Append a note, in any status."""
    version = http.expected_version(if_match)
    follow_up = wf.add_note(follow_up_id, text=body.note, by=who.email, expected_version=version)
    return http.answer(follow_up)
