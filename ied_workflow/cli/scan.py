"""`ied-workflow scan ...`: the scans the scheduler runs, run here in-process."""

from __future__ import annotations

import typer

from ied_workflow.cli.common import JSON, NOW, when, workflow
from ied_workflow.cli.output import emit_json, say

app = typer.Typer(help="Scans the scheduler runs.", no_args_is_help=True)


@app.command("overdue")
def scan_overdue(now: str | None = NOW, as_json: bool = JSON) -> None:
    """Record an alert for every follow-up overdue now (in-process, idempotent)."""
    result = workflow().scan_overdue(when(now, "--now"))
    emit_json(result) if as_json else say(f"overdue alerts written: {result.alerts_written}")
