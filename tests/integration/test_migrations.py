"""The Alembic migrations build exactly the schema that tables.py describes."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, Select, event, func, inspect, literal, select, text

from ied_workflow.db.tables import follow_ups, metadata
from ied_workflow.domain import Status
from ied_workflow.follow_ups.queries import Filter, conditions, parameters
from tests.support.data import NOW

UTC_ZONE = ZoneInfo("UTC")
# SQLite cannot reflect an expression index (ix_follow_ups_in_progress_last_touch):
# SQLAlchemy and Alembic skip it there with a warning; PostgreSQL compares it.
pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index")


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_overdue_query_has_a_partial_index_on_open_rows(engine: Engine) -> None:
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("follow_ups")}
    assert indexes["ix_follow_ups_open_due_at"]["column_names"] == ["due_at", "id"]
    unique = [c["column_names"] for c in inspect(engine).get_unique_constraints("follow_ups")]
    assert ["lead_id"] in unique


def test_no_contact_filter_can_use_its_partial_index(engine: Engine) -> None:
    # Given the other index on status gone (in a transaction rolled back at the end)
    quiet = Filter(statuses=(Status.IN_PROGRESS,), no_contact_days=3)
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(text("DROP INDEX ix_follow_ups_status_due_at"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        # When the planner explains the section's capped count
        event.listen(conn, "before_cursor_execute", _explained, retval=True)
        plan = str(conn.execute(_count(quiet), parameters(quiet, NOW, UTC_ZONE)).all())
        event.remove(conn, "before_cursor_execute", _explained)
        transaction.rollback()
    # Then the query matches the index's expression and predicate
    assert "ix_follow_ups_in_progress_last_touch" in plan


def _count(where: Filter) -> Select[tuple[int]]:
    matching = select(literal(1)).select_from(follow_ups).where(*conditions(where))
    return select(func.count()).select_from(matching.limit(10_001).subquery())


def _explained(
    conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
) -> tuple[str, Any]:
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    return prefix + statement, params
