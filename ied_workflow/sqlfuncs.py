"""SQL expressions whose spelling differs between PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
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
