"""The detail page's forms: each POST calls one Workflow use case as the signed-in user.

The hidden `version` field is the version the page showed; the service compares it
after locking the row, so a form sent after someone else acted changes nothing and
says so. A refusal renders the page again with the rule's message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from ied_workflow import links, validation
from ied_workflow.accounts.records import Principal
from ied_workflow.domain import FollowUp, Outcome, Satisfaction
from ied_workflow.errors import RuleViolation, ValidationError, VersionMismatch
from ied_workflow.web.console import forms, session
from ied_workflow.web.console.pages import PageRoute, sentence
from ied_workflow.web.console.routes.follow_ups import detail_page
from ied_workflow.workflow import Workflow

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FollowUpId = Annotated[int, Path(alias="id", ge=1, le=2**63 - 1)]
Version = Annotated[int | None, Form(ge=1, le=2**31)]
Text = Annotated[str, Form(max_length=20_000)]
Choice = Annotated[str, Form(max_length=40)]
Checkbox = Annotated[bool, Form()]
ACTION = links.FOLLOW_UPS + "/{id}/"


async def _act(
    request: Request,
    follow_up_id: int,
    visit: session.Visit,
    done: str,
    change: Callable[[Workflow, Principal], FollowUp],
) -> Response:
    """Run one change as the signed-in user, read in the change's own transaction; on
    success go back to the page (POST-redirect-GET) with `done`."""
    wf: Workflow = request.app.state.workflow
    try:
        await visit.together(lambda who, uow: change(wf, who))
    except VersionMismatch as mismatch:
        message = (
            f"Someone else changed this follow-up first (it is now at version "
            f"{mismatch.current_version}). Nothing of yours was saved: check the page as it "
            "is now and try again."
        )
        return await detail_page(request, follow_up_id, visit, error=message, status=409)
    except (RuleViolation, ValidationError) as refused:
        status = 422 if isinstance(refused, ValidationError) else 409
        message = "Refused: " + sentence(str(refused))
        return await detail_page(request, follow_up_id, visit, error=message, status=status)
    session.flash(request, done)
    return RedirectResponse(links.follow_up(follow_up_id), status_code=303)


@router.post(ACTION + forms.FORMS["start"].slug)
async def start(
    request: Request, follow_up_id: FollowUpId, visit: session.OperatorForm, version: Version = None
) -> Response:
    """Staff begin working it: pending to in progress."""
    return await _act(
        request,
        follow_up_id,
        visit,
        "Started.",
        lambda wf, who: wf.start(follow_up_id, by=who.email, expected_version=version),
    )


@router.post(ACTION + forms.FORMS["log_contact"].slug)
async def log_contact(
    request: Request,
    follow_up_id: FollowUpId,
    visit: session.OperatorForm,
    version: Version = None,
    outcome: Choice = "",
    note: Text = "",
) -> Response:
    """One attempt to reach the customer (it starts a pending follow-up)."""
    return await _act(
        request,
        follow_up_id,
        visit,
        "Contact logged.",
        lambda wf, who: wf.log_contact(
            follow_up_id, by=who.email, outcome=outcome, note=note or None, expected_version=version
        ),
    )


@router.post(ACTION + forms.FORMS["record_outcome"].slug)
async def record_outcome(
    request: Request,
    follow_up_id: FollowUpId,
    visit: session.OperatorForm,
    version: Version = None,
    has_issue: Choice = "",
    satisfaction: Choice = "",
    issue_summary: Text = "",
    issue_resolved: Checkbox = False,
    referral: Checkbox = False,
    notes: Text = "",
) -> Response:
    """Close it: completed, or closed with an issue while the issue stays open."""
    chosen = (
        validation.enum_value(Satisfaction, satisfaction, "satisfaction") if satisfaction else None
    )
    outcome = Outcome(
        has_issue=forms.yes_no(has_issue),
        satisfaction=chosen,
        issue_summary=issue_summary or None,
        issue_resolved=issue_resolved,
        referral=referral,
        notes=notes or None,
    )
    return await _act(
        request,
        follow_up_id,
        visit,
        "Outcome recorded.",
        lambda wf, who: wf.record_outcome(
            follow_up_id, by=who.email, outcome=outcome, expected_version=version
        ),
    )


@router.post(ACTION + forms.FORMS["resolve_issue"].slug)
async def resolve_issue(
    request: Request,
    follow_up_id: FollowUpId,
    visit: session.OperatorForm,
    version: Version = None,
    note: Text = "",
) -> Response:
    """The customer's issue was handled; the follow-up stays closed with issue."""
    return await _act(
        request,
        follow_up_id,
        visit,
        "Issue marked resolved.",
        lambda wf, who: wf.resolve_issue(
            follow_up_id, by=who.email, note=note or None, expected_version=version
        ),
    )


@router.post(ACTION + forms.FORMS["reschedule"].slug)
async def reschedule(
    request: Request,
    follow_up_id: FollowUpId,
    visit: session.OperatorForm,
    version: Version = None,
    due_at: Choice = "",
) -> Response:
    """Move the due date of an open follow-up (entered in the operations timezone)."""

    def change(wf: Workflow, who: Principal) -> FollowUp:
        when = forms.local_datetime(due_at, wf.settings.zone)
        return wf.reschedule(follow_up_id, due_at=when, by=who.email, expected_version=version)

    return await _act(request, follow_up_id, visit, "Rescheduled.", change)


@router.post(ACTION + forms.FORMS["add_note"].slug)
async def add_note(
    request: Request,
    follow_up_id: FollowUpId,
    visit: session.OperatorForm,
    version: Version = None,
    note: Text = "",
) -> Response:
    """Append a note, in any status."""
    return await _act(
        request,
        follow_up_id,
        visit,
        "Note added.",
        lambda wf, who: wf.add_note(
            follow_up_id, text=note, by=who.email, expected_version=version
        ),
    )
