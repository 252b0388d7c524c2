"""SQL whose spelling differs between PostgreSQL and SQLite: expressions and upserts."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import BigInteger, Connection, Table, any_, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since 1970 of a UTC timestamp column, floored."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return (
        "CAST(FLOOR(EXTRACT(EPOCH FROM " + compiler.process(element.clauses, **kw) + ")) AS BIGINT)"
    )


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # UTCDateTime stores UTC text on SQLite, which strftime reads as UTC.
    return "CAST(strftime('%s', " + compiler.process(element.clauses, **kw) + ") AS INTEGER)"


def in_ids(conn: Connection, column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL as one array parameter (`= ANY(...)`).

    A batch of 10,000 ids spelled as 10,000 placeholders costs more to render and parse
    than to run.
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # PostgreSQL's only

        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger())))  # type: ignore[no-any-return]
    return column.in_(ids)  # type: ignore[no-any-return]


def upsert_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (PostgreSQL and SQLite)."""
    return insert_of(conn.dialect.name)(table)


def insert_of(dialect_name: str) -> Callable[[Table], Any]:
    """`insert` of the dialect named, for statements built once per dialect."""
    # Each dialect's module is loaded where it runs: SQLite's CLI commands skip PostgreSQL's.
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
