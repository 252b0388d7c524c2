"""`ied-workflow followup ...`: the follow-up life, one command per use case.

Times are printed in IED_OPS_TIMEZONE with the zone named; `--json` keeps ISO 8601.
"""

from __future__ import annotations

import typer

from config.settings import get_settings
from ied_workflow import validation
from ied_workflow.cli.common import BY, JSON, NOW, actor, due, when, workflow
from ied_workflow.cli.output import (
    console,
    emit_json,
    follow_up_details,
    follow_up_table,
    history_lines,
    print_details,
    say,
    show_follow_up,
)
from ied_workflow.domain import ContactOutcome, FollowUp, Outcome, Satisfaction, Status
from ied_workflow.errors import ValidationError
from ied_workflow.follow_ups.queries import COUNT_CAP, Filter

app = typer.Typer(help="Create, work and inspect follow-ups.", no_args_is_help=True)
ID = typer.Argument(..., help="The follow-up's id.", show_default=False)
DUE_HELP = "ISO 8601 with offset, or a plain date (YYYY-MM-DD: the end of that day, ops timezone)."


def show(follow_up: FollowUp, as_json: bool) -> None:
    show_follow_up(follow_up, as_json, get_settings().zone)


@app.command("create")
def create(
    lead_id: str = typer.Argument(..., help="The delivered lead's id.", show_default=False),
    by: str | None = BY,
    due_at: str | None = typer.Option(None, "--due", help=f"{DUE_HELP} Default: the policy."),
    notes: str | None = typer.Option(None, "--notes", help="Notes to start with."),
    as_json: bool = JSON,
) -> None:
    """Open the one follow-up of a delivered lead."""
    at = None if due_at is None else due(due_at, "--due")
    show(workflow().create(lead_id, by=actor(by), due_at=at, notes=notes), as_json)


@app.command("start")
def start(follow_up_id: int = ID, by: str | None = BY, as_json: bool = JSON) -> None:
    """Begin working a pending follow-up."""
    show(workflow().start(follow_up_id, by=actor(by)), as_json)


@app.command("contact")
def contact(
    follow_up_id: int = ID,
    outcome: ContactOutcome = typer.Option(..., "--outcome", help="What the attempt achieved."),
    by: str | None = BY,
    at: str | None = typer.Option(None, "--at", help="When it happened (ISO 8601); default now."),
    note: str | None = typer.Option(None, "--note", help="What was said or done."),
    as_json: bool = JSON,
) -> None:
    """Log a contact attempt (it starts a pending follow-up)."""
    follow_up = workflow().log_contact(
        follow_up_id, by=actor(by), outcome=outcome, at=when(at, "--at"), note=note
    )
    show(follow_up, as_json)


@app.command("outcome")
def outcome(
    follow_up_id: int = ID,
    by: str | None = BY,
    has_issue: bool | None = typer.Option(
        None, "--has-issue/--no-issue", help="Did the customer report a problem?"
    ),
    satisfaction: Satisfaction | None = typer.Option(
        None, "--satisfaction", help="The customer's satisfaction (needed to complete)."
    ),
    issue_summary: str | None = typer.Option(
        None, "--issue-summary", help="The problem, in a sentence (needed with --has-issue)."
    ),
    issue_resolved: bool = typer.Option(
        False, "--issue-resolved", help="The issue was already resolved: complete it."
    ),
    referral: bool = typer.Option(False, "--referral", help="A referral opportunity came up."),
    notes: str | None = typer.Option(None, "--notes", help="Notes to append."),
    as_json: bool = JSON,
) -> None:
    """Record the outcome: completed, or closed_with_issue while an issue is open."""
    if has_issue is None:
        raise ValidationError("say --has-issue or --no-issue")
    result = Outcome(
        has_issue=has_issue,
        satisfaction=satisfaction,
        issue_summary=issue_summary,
        issue_resolved=issue_resolved,
        referral=referral,
        notes=notes,
    )
    show(workflow().record_outcome(follow_up_id, by=actor(by), outcome=result), as_json)


@app.command("resolve-issue")
def resolve_issue(follow_up_id: int = ID, by: str | None = BY, as_json: bool = JSON) -> None:
    """Mark the open issue of a closed_with_issue follow-up as resolved."""
    show(workflow().resolve_issue(follow_up_id, by=actor(by)), as_json)


@app.command("reschedule")
def reschedule(
    follow_up_id: int = ID,
    due_at: str = typer.Option(..., "--due", help=DUE_HELP),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Move the due date of an open follow-up."""
    at = due(due_at, "--due")
    show(workflow().reschedule(follow_up_id, due_at=at, by=actor(by)), as_json)


@app.command("note")
def note(
    follow_up_id: int = ID,
    text: str = typer.Option(..., "--text", help="The note to append."),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Append a note (any status)."""
    show(workflow().add_note(follow_up_id, text=text, by=actor(by)), as_json)


@app.command("show")
def show_one(
    follow_up_id: int | None = typer.Argument(
        None, help="The follow-up's id (or give --lead).", show_default=False
    ),
    lead: str | None = typer.Option(None, "--lead", help="Find it by its lead's id instead."),
    as_json: bool = JSON,
) -> None:
    """Show every field of one follow-up, by id or by lead."""
    if (follow_up_id is None) == (lead is None):
        raise ValidationError("give a follow-up id or --lead LEAD_ID (one of them)")
    wf = workflow()
    if lead is not None:
        follow_up = wf.get_by_lead(lead)
    else:
        follow_up = wf.get(validation.positive_id(follow_up_id or 0))
    if as_json:
        emit_json(follow_up)
    else:
        print_details(follow_up_details(follow_up, wf.settings.zone))


@app.command("history")
def history(follow_up_id: int = ID, as_json: bool = JSON) -> None:
    """The audit trail and the contact attempts (outcomes and notes), in time order."""
    wf = workflow()
    events, attempts = wf.history(validation.positive_id(follow_up_id))
    if as_json:
        emit_json({"events": events, "contactAttempts": attempts})
        return
    for line in history_lines(events, attempts, wf.settings.zone):
        say(line)


@app.command("list")
def list_(
    status: list[Status] = typer.Option([], "--status", help="Repeat for several."),
    due_today: bool = typer.Option(
        False, "--due-today", help="Open and due before today ends (ops timezone)."
    ),
    overdue: bool = typer.Option(False, "--overdue", help="Open and past due."),
    has_issue: bool = typer.Option(False, "--has-issue", help="An issue was reported."),
    open_issue: bool = typer.Option(False, "--open-issue", help="An issue is still open."),
    installer: str | None = typer.Option(None, "--installer", help="Of this installer only."),
    lead: str | None = typer.Option(None, "--lead", help="Of this lead only."),
    now: str | None = NOW,
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="Rows to show at most."),
    as_json: bool = JSON,
) -> None:
    """Follow-ups matching every filter given, soonest due first."""
    where = Filter.of(
        statuses=status,
        due_today=due_today,
        overdue=overdue,
        has_issue=has_issue,
        open_issue=open_issue,
        installer_id=installer,
        lead_id=lead,
    )
    instant = when(now, "--now")
    wf = workflow()
    rows = wf.find(where, instant, limit=limit)
    if as_json:
        emit_json(rows)
        return
    total = wf.count(where, instant, cap=COUNT_CAP)
    shown = f"{COUNT_CAP:,}+" if total > COUNT_CAP else f"{total:,}"
    zone = wf.settings.zone
    title = f"{len(rows)} of {shown} follow-ups (times in {zone.key})"
    console.print(follow_up_table(rows, title=title, zone=zone))
