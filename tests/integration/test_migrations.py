"""The Alembic migrations build exactly the schema that tables.py describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ied_workflow.tables import metadata


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_overdue_query_has_a_partial_index_on_open_rows(engine: Engine) -> None:
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("follow_ups")}
    assert indexes["ix_follow_ups_open_due_at"]["column_names"] == ["due_at", "id"]
    unique = [c["column_names"] for c in inspect(engine).get_unique_constraints("follow_ups")]
    assert ["lead_id"] in unique
