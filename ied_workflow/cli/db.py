"""`ied-workflow db ...`: schema migrations (the one command group that loads Alembic)."""

from __future__ import annotations

import typer

from config.settings import get_settings
from ied_workflow.cli.output import say
from ied_workflow.db import migrate

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Argument(
        "head", help="Revision to reach (default head); never below the current one."
    ),
) -> None:
    """Apply the Alembic migrations to IED_DATABASE_URL (forward only)."""
    reached = migrate.upgrade(get_settings().database_url, revision)
    say(f"database schema at {reached or 'base'}" + (" (head)" if revision == "head" else ""))
