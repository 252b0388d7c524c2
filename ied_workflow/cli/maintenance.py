"""`ied-workflow db ...`: schema migrations."""

from __future__ import annotations

import typer

from config.settings import get_settings
from ied_workflow.cli.common import JSON, workflow
from ied_workflow.cli.output import emit_json, say
from ied_workflow.db import migrate

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(
    revision: str = typer.Argument(
        "head", help="Revision to reach (default head); never below the current one."
    ),
) -> None:
    """Apply the Alembic migrations to IED_DATABASE_URL (forward only)."""
    reached = migrate.upgrade(get_settings().database_url, revision)
    say(f"database schema at {reached or 'base'}" + (" (head)" if revision == "head" else ""))


audit_app = typer.Typer(help="Audit trail checks.", no_args_is_help=True)


@audit_app.command("verify")
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
