"""`ied-workflow demo`: the contract's validation scenarios on a fresh SQLite database.

It makes its database with the migrations, so it loads Alembic, as `db` does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import typer
from rich.rule import Rule
from sqlalchemy import select

from config.settings import get_settings
from ied_workflow.cli.output import console, counts_table, follow_up_line, follow_up_table, say
from ied_workflow.db import migrate, tables
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.errors import IedWorkflowError
from ied_workflow.follow_ups.queries import Filter
from ied_workflow.workflow import Workflow

OPS = "ops@ied.example"


def demo(
    database: str = typer.Option("", help="SQLite file to use (default: a fresh temporary one)."),
) -> None:
    """Seed a fresh SQLite database and walk every scenario of the V1 contract."""
    run_demo(database or None)


def run_demo(path: str | None) -> None:
    """Seed leads, then walk each scenario, printing what the workflow did or refused."""
    environment = get_settings()  # a bad setting is reported before any file is touched
    with tempfile.TemporaryDirectory() as scratch:
        file = Path(path) if path else Path(scratch) / "demo.db"
        file.unlink(missing_ok=True)
        url = f"sqlite:///{file}"
        settings = environment.model_copy(update={"database_url": url})
        migrate.upgrade(url)
        workflow = Workflow.from_settings(settings)
        _walk(workflow, workflow.now())
        workflow.engine.dispose()


def _walk(wf: Workflow, now: datetime) -> None:
    for lead_id, installer in (("L-100", "I-7"), ("L-101", "I-7"), ("L-102", "I-8")):
        wf.upsert_lead(lead_id, status="assigned", installer_id=installer)
    wf.upsert_lead("L-103", status="new", installer_id="I-9")
    leads_before = _leads(wf)

    _step("A lead does not create a follow-up until operations asks for one")
    say(f"4 leads mirrored, follow-ups: {wf.count(Filter(), now)}")
    _refused("follow-up for a lead still 'new'", lambda: wf.create("L-103", by=OPS))

    _step("A delivered lead can create one primary follow-up")
    first = wf.create("L-100", by=OPS, notes="check the quote was honoured")
    say(follow_up_line(first))
    _refused("a second follow-up for L-100", lambda: wf.create("L-100", by=OPS))

    _step("A due follow-up can remain pending until action starts")
    late = wf.create("L-101", by=OPS, due_at=now - timedelta(days=1))
    say(follow_up_line(late) + f"; overdue now: {wf.count(Filter(overdue=True), now)}")

    _step("Once staff begin working it, status moves to in_progress")
    say(follow_up_line(wf.start(first.id, by=OPS)))
    satisfied = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)
    _refused(
        "completing without reaching the customer",
        lambda: wf.record_outcome(first.id, by=OPS, outcome=satisfied),
    )

    _step("Contact happened, satisfaction recorded, no open issue: completed")
    wf.log_contact(first.id, by=OPS, outcome="no_response", at=now - timedelta(hours=2))
    wf.log_contact(first.id, by=OPS, outcome="reached_customer", note="happy with the install")
    say(follow_up_line(wf.record_outcome(first.id, by=OPS, outcome=satisfied)))
    _refused(
        "logging contact on a completed follow-up",
        lambda: wf.log_contact(first.id, by=OPS, outcome="attempted"),
    )

    _step("Contact happened but an issue remains open: closed_with_issue")
    third = wf.create("L-102", by=OPS)
    wf.log_contact(third.id, by=OPS, outcome="reached_customer")
    issue = Outcome(
        has_issue=True,
        issue_summary="<b>scratched</b> panel & late crew",
        satisfaction=Satisfaction.UNSATISFIED,
        referral=False,
    )
    closed = wf.record_outcome(third.id, by=OPS, outcome=issue)
    say(follow_up_line(closed) + f"; issue: {closed.issue_summary!r}")
    say(follow_up_line(wf.resolve_issue(third.id, by=OPS)) + "; issue resolved separately")

    _step("Follow-up completion does not change the lead lifecycle")
    say("lead rows byte-for-byte unchanged: " + str(_leads(wf) == leads_before))

    _step("Dashboards filter due, in-progress, completed and issue-bearing follow-ups")
    console.print(counts_table(wf.dashboard(now), title="dashboard counts"))
    zone = wf.settings.zone
    console.print(follow_up_table(wf.find(Filter(), now), title="all follow-ups", zone=zone))

    _step("The overdue scan alerts operations once (console channel: no Slack or SMTP set)")
    scanned = wf.scan_overdue(now)
    say(
        f"scan wrote {scanned.alerts_written} alert(s); a second scan wrote "
        f"{wf.scan_overdue(now).alerts_written}"
    )
    sent = wf.dispatch()
    say(
        f"dispatched {sum(sent.messages.values())} message(s) for "
        f"{sum(sent.sent.values())} alert(s), the closed-with-issue one included"
    )


def _leads(wf: Workflow) -> list[tuple[object, ...]]:
    query = select(tables.leads).order_by("id")
    return wf.run(lambda uow: [tuple(row) for row in uow.conn.execute(query)])


def _step(title: str) -> None:
    console.print(Rule(title, align="left"))


def _refused(what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except IedWorkflowError as exc:
        say(f"refused ({type(exc).__name__}): {what}: {exc}")
    else:
        raise AssertionError(f"the demo expected a refusal: {what}")
