"""Pieces every command shares: the workflow and the common options."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from config.settings import get_settings
from ied_workflow import validation

if TYPE_CHECKING:
    from ied_workflow.workflow import Workflow

BY = typer.Option(None, "--by", help="Email of the operator acting (default: IED_ACTOR).")
JSON = typer.Option(False, "--json", help="Print JSON with the contract's camelCase names.")
NOW = typer.Option(None, "--now", help="Act as if it were this instant (ISO 8601 with offset).")


def workflow() -> Workflow:
    """The workflow on IED_DATABASE_URL; a one-shot command keeps no pooled connections.

    A SQLite file that does not exist is refused, not created empty, so a command run in
    the wrong folder leaves no stray database behind.
    """
    # Loaded by the commands that use the database: `tasks send` and `--help` stay light.
    from sqlalchemy.pool import NullPool

    from ied_workflow.db import engines
    from ied_workflow.workflow import Workflow

    settings = get_settings()
    engines.require_database(settings.database_url)
    return Workflow.from_settings(settings, poolclass=NullPool)


def when(value: str | None, field: str) -> datetime | None:
    """An optional ISO 8601 option value, which must carry its offset."""
    return None if value is None else validation.parse_datetime(value, field)


def actor(by: str | None) -> str:
    """--by, or IED_ACTOR for a person who always acts as themselves."""
    chosen = by if by is not None else get_settings().actor
    if not chosen:
        raise validation.ValidationError("say who acts: --by EMAIL, or set IED_ACTOR")
    return chosen


def due(value: str, field: str) -> datetime:
    """A due date option: ISO 8601 with offset, or a plain date (end of that day, ops timezone)."""
    return validation.parse_due(value, field, get_settings().zone)
