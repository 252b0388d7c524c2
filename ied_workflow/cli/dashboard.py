"""`ied-workflow dashboard`: the dashboard's counts."""

from __future__ import annotations

from ied_workflow.cli.common import JSON, NOW, when, workflow
from ied_workflow.cli.output import console, counts_table, emit_json


def dashboard(now: str | None = NOW, as_json: bool = JSON) -> None:
    """The dashboard's counts: due today, overdue, by status, issues."""
    wf = workflow()
    counts = wf.dashboard(when(now, "--now"))
    if as_json:
        emit_json(counts)
    else:
        console.print(counts_table(counts, title=f"follow-ups (today in {wf.settings.zone.key})"))
