"""`ied-workflow db ...`: schema migrations."""

from __future__ import annotations

import typer

from config.settings import get_settings
from ied_workflow import db
from ied_workflow.cli.output import say

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the Alembic migrations to IED_DATABASE_URL."""
    db.upgrade(get_settings().database_url, revision)
    say(f"database schema at {revision}")
