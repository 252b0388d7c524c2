"""`ied-workflow followup ...`: the follow-up life, one command per use case."""

from __future__ import annotations

import typer

from ied_workflow import validation
from ied_workflow.cli.common import BY, JSON, when, workflow
from ied_workflow.cli.output import console, emit_json, follow_up_table, say, show_follow_up
from ied_workflow.domain import ContactOutcome, Outcome, Satisfaction, Status
from ied_workflow.errors import ValidationError
from ied_workflow.queries import Filter

COUNT_CAP = 10_000  # the table title says "10,000+" beyond this

app = typer.Typer(help="Create, work and inspect follow-ups.", no_args_is_help=True)


@app.command("create")
def create(
    lead_id: str,
    by: str = BY,
    due: str | None = typer.Option(None, "--due", help="ISO 8601 with offset; default: policy."),
    notes: str | None = typer.Option(None, "--notes"),
    as_json: bool = JSON,
) -> None:
    """Open the one follow-up of a delivered lead."""
    follow_up = workflow().create(lead_id, by=by, due_at=when(due, "--due"), notes=notes)
    show_follow_up(follow_up, as_json)


@app.command("start")
def start(follow_up_id: int, by: str = BY, as_json: bool = JSON) -> None:
    """Begin working a pending follow-up."""
    show_follow_up(workflow().start(follow_up_id, by=by), as_json)


@app.command("contact")
def contact(
    follow_up_id: int,
    outcome: ContactOutcome = typer.Option(..., "--outcome"),
    by: str = BY,
    at: str | None = typer.Option(None, "--at", help="When it happened (ISO 8601); default now."),
    note: str | None = typer.Option(None, "--note"),
    as_json: bool = JSON,
) -> None:
    """Log a contact attempt (it starts a pending follow-up)."""
    follow_up = workflow().log_contact(
        follow_up_id, by=by, outcome=outcome, at=when(at, "--at"), note=note
    )
    show_follow_up(follow_up, as_json)


@app.command("outcome")
def outcome(
    follow_up_id: int,
    by: str = BY,
    has_issue: bool | None = typer.Option(
        None, "--has-issue/--no-issue", help="Did the customer report a problem?"
    ),
    satisfaction: Satisfaction | None = typer.Option(None, "--satisfaction"),
    issue_summary: str | None = typer.Option(None, "--issue-summary"),
    issue_resolved: bool = typer.Option(False, "--issue-resolved"),
    referral: bool = typer.Option(False, "--referral"),
    notes: str | None = typer.Option(None, "--notes"),
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
    show_follow_up(workflow().record_outcome(follow_up_id, by=by, outcome=result), as_json)


@app.command("resolve-issue")
def resolve_issue(follow_up_id: int, by: str = BY, as_json: bool = JSON) -> None:
    """Mark the open issue of a closed_with_issue follow-up as resolved."""
    show_follow_up(workflow().resolve_issue(follow_up_id, by=by), as_json)


@app.command("reschedule")
def reschedule(
    follow_up_id: int, due: str = typer.Option(..., "--due"), by: str = BY, as_json: bool = JSON
) -> None:
    """Move the due date of an open follow-up."""
    due_at = validation.parse_datetime(due, "--due")
    show_follow_up(workflow().reschedule(follow_up_id, due_at=due_at, by=by), as_json)


@app.command("note")
def note(
    follow_up_id: int, text: str = typer.Option(..., "--text"), by: str = BY, as_json: bool = JSON
) -> None:
    """Append a note (any status)."""
    show_follow_up(workflow().add_note(follow_up_id, text=text, by=by), as_json)


@app.command("show")
def show(follow_up_id: int, as_json: bool = JSON) -> None:
    """Show one follow-up."""
    show_follow_up(workflow().get(validation.positive_id(follow_up_id)), as_json)


@app.command("history")
def history(follow_up_id: int, as_json: bool = JSON) -> None:
    """The audit trail and contact attempts of a follow-up."""
    events, attempts = workflow().history(validation.positive_id(follow_up_id))
    if as_json:
        emit_json({"events": events, "contactAttempts": attempts})
        return
    for event in events:
        move = f"{event.from_status or '-'} -> {event.to_status}"
        when = event.at.isoformat(timespec="seconds")
        say(f"{when} {event.type:<16} {move:<28} {event.actor_email}")


@app.command("list")
def list_(
    status: list[Status] = typer.Option([], "--status", help="Repeat for several."),
    due: bool = typer.Option(False, "--due", help="Open and due before today ends (ops timezone)."),
    overdue: bool = typer.Option(False, "--overdue", help="Open and past due."),
    has_issue: bool = typer.Option(False, "--has-issue"),
    open_issue: bool = typer.Option(False, "--open-issue"),
    installer: str | None = typer.Option(None, "--installer"),
    now: str | None = typer.Option(None, "--now", help="Evaluate due/overdue at this instant."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Follow-ups matching every filter given, soonest due first."""
    where = Filter(
        statuses=tuple(status),
        due=due,
        overdue=overdue,
        has_issue=has_issue,
        open_issue=open_issue,
        installer_id=installer,
    )
    instant = when(now, "--now")
    wf = workflow()
    rows = wf.find(where, instant, limit=limit)
    if as_json:
        emit_json(rows)
        return
    total = wf.count(where, instant, cap=COUNT_CAP)
    shown = f"{COUNT_CAP:,}+" if total > COUNT_CAP else f"{total:,}"
    console.print(follow_up_table(rows, title=f"{len(rows)} of {shown} follow-ups"))
