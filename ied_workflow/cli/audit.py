"""`ied-workflow audit ...`: the audit trail checked against the follow-ups."""

from __future__ import annotations

import typer

from ied_workflow.cli.common import JSON, workflow
from ied_workflow.cli.output import emit_json, say

app = typer.Typer(help="Audit trail checks.", no_args_is_help=True)


@app.command("verify")
def verify(as_json: bool = JSON) -> None:
    """Rebuild every follow-up from its events and contact attempts; exit 3 on any mismatch."""
    mismatches = workflow().audit()
    if as_json:
        emit_json({"mismatches": mismatches, "ok": not mismatches})
    else:
        for m in mismatches:
            stored, rebuilt = repr(m.stored), repr(m.rebuilt)
            say(f"follow-up {m.follow_up_id}: {m.field} is {stored}, history says {rebuilt}")
        say(f"audit verify: {len(mismatches)} mismatch(es)")
    if mismatches:
        raise typer.Exit(3)
