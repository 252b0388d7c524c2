"""/api/v1/follow-ups/{id}/...: the contract's actions, each answering the follow-up.

The actor is always the authenticated user. An If-Match naming an older version is
refused by the service after it locks the row (412), so nothing changes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Response

from ied_workflow.domain import Outcome
from ied_workflow.web.api import bodies
from ied_workflow.web.api.dependencies import AsOperator
from ied_workflow.web.api.routes import PREFIX
from ied_workflow.web.api.routes.follow_ups import FollowUpId
from ied_workflow.web.api.schemas import (
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
async def start(
    follow_up_id: FollowUpId,
    act: AsOperator,
    if_match: IfMatch = None,
    body: Annotated[NoBody | None, Body()] = None,
) -> Response:
    """Staff begin working it: pending to in_progress."""
    version = bodies.expected_version(if_match)
    follow_up = await act(
        lambda wf, who: wf.start(follow_up_id, by=who.email, expected_version=version)
    )
    return bodies.answer(follow_up)


@router.post("/contact-attempts", response_model=FollowUpOut)
async def log_contact(
    follow_up_id: FollowUpId,
    body: ContactAttemptIn,
    act: AsOperator,
    if_match: IfMatch = None,
) -> Response:
    """Log one attempt to reach the customer (it starts a pending follow-up)."""
    version = bodies.expected_version(if_match)
    follow_up = await act(
        lambda wf, who: wf.log_contact(
            follow_up_id,
            by=who.email,
            outcome=body.outcome,
            note=body.note,
            expected_version=version,
        )
    )
    return bodies.answer(follow_up)


@router.post("/outcome", response_model=FollowUpOut)
async def record_outcome(
    follow_up_id: FollowUpId,
    body: OutcomeIn,
    act: AsOperator,
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
    version = bodies.expected_version(if_match)
    follow_up = await act(
        lambda wf, who: wf.record_outcome(
            follow_up_id, by=who.email, outcome=outcome, expected_version=version
        )
    )
    return bodies.answer(follow_up)


@router.post("/resolve-issue", response_model=FollowUpOut)
async def resolve_issue(
    follow_up_id: FollowUpId,
    act: AsOperator,
    if_match: IfMatch = None,
    body: Annotated[ResolveIssueIn | None, Body()] = None,
) -> Response:
    """Mark the open issue handled; the follow-up stays closed_with_issue."""
    note = body.note if body else None
    version = bodies.expected_version(if_match)
    follow_up = await act(
        lambda wf, who: wf.resolve_issue(
            follow_up_id, by=who.email, note=note, expected_version=version
        )
    )
    return bodies.answer(follow_up)


@router.post("/reschedule", response_model=FollowUpOut)
async def reschedule(
    follow_up_id: FollowUpId,
    body: RescheduleIn,
    act: AsOperator,
    if_match: IfMatch = None,
) -> Response:
    """Move the due date of an open follow-up."""
    version = bodies.expected_version(if_match)
    follow_up = await act(
        lambda wf, who: wf.reschedule(
            follow_up_id, due_at=body.due_at, by=who.email, expected_version=version
        )
    )
    return bodies.answer(follow_up)


@router.post("/notes", response_model=FollowUpOut)
async def add_note(
    follow_up_id: FollowUpId,
    body: NoteIn,
    act: AsOperator,
    if_match: IfMatch = None,
) -> Response:
    """Append a note, in any status."""
    version = bodies.expected_version(if_match)
    follow_up = await act(
        lambda wf, who: wf.add_note(
            follow_up_id, text=body.note, by=who.email, expected_version=version
        )
    )
    return bodies.answer(follow_up)
