"""`ied-workflow leads ...`: mirror the host application's leads."""

from __future__ import annotations

import typer

from ied_workflow.cli.common import JSON, workflow
from ied_workflow.cli.output import emit_json, say

app = typer.Typer(
    help="Leads as the host application knows them (read-only to follow-ups).", no_args_is_help=True
)


LEAD = typer.Argument(..., help="The lead's id in the host application.", show_default=False)


@app.command("upsert")
def upsert(
    lead_id: str = LEAD,
    status: str = typer.Option(..., "--status", help="Lead lifecycle status, e.g. assigned."),
    installer: str | None = typer.Option(None, "--installer", help="Installer id."),
    as_json: bool = JSON,
) -> None:
    """Create or update a lead's mirror."""
    lead = workflow().upsert_lead(lead_id, status=status, installer_id=installer)
    emit_json(lead) if as_json else say(
        f"lead {lead.id}: {lead.status}, installer {lead.installer_id}"
    )


@app.command("show")
def show(lead_id: str = LEAD, as_json: bool = JSON) -> None:
    """Show a lead."""
    lead = workflow().lead(lead_id)
    emit_json(lead) if as_json else say(
        f"lead {lead.id}: {lead.status}, installer {lead.installer_id}"
    )
