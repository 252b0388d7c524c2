"""Emptying and reading the whole database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, text

from ied_workflow.db.tables import metadata


def empty_tables(engine: Engine) -> None:
    """Delete every row of every table (PostgreSQL), restarting the id sequences."""
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))  # fixed table names


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove a refused operation wrote nothing."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in metadata.sorted_tables
        }
