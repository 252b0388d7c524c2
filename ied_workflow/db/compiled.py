"""The hot statements on the driver's cursor, with SQLAlchemy's error handling kept.

`Connection.execute` costs a quarter of a transition's client CPU on top of the driver
(execution context, cache lookup, `CursorResult`, column descriptions). On PostgreSQL
a `CompiledStatement` is compiled once per dialect and
runs through `Connection._cursor_execute`, SQLAlchemy's own path for a statement on a
cursor: the same cursor events and echo, and on failure the same `handle_error`
events, disconnect detection, invalidation and `DBAPIError` wrapping that
`Database.run`'s retries rely on. The type processors (UTC datetimes, JSON) are the
columns' own. Other dialects (SQLite) run the statement through `execute`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

Processor = Callable[[Any], Any]
R = TypeVar("R")


class _Compiled:
    """The SQL text and the type processors of one statement for one dialect."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.positional or compiled.escaped_bind_names or compiled.post_compile_params:
            raise TypeError("a cursor statement needs plain named parameters")
        named = {
            bind: name for bind, name in compiled.bind_names.items() if not bind.literal_execute
        }
        if compiled.insert_prefetch or compiled.update_prefetch or any(b.callable for b in named):
            # `execute` computes these on every call (a column's Python default, a
            # callable's value); compiled once, they would be frozen or sent as NULL.
            raise TypeError("a cursor statement cannot take values computed per call")
        self.sql: str = compiled.string
        if compiled.literal_execute_params:
            # Values fixed in the statement (`literal_execute`, e.g. checked statuses):
            # rendered once here, where `execute` renders them on every call.
            placeholders = dict.fromkeys(named.values())
            self.sql = compiled.construct_expanded_state(placeholders).statement
        binds = {name: bind.type for bind, name in named.items()}
        self.binds: dict[str, Processor] = {
            name: proc
            for name, type_ in binds.items()
            if (proc := type_.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        # Values the statement holds itself (a literal, LIMIT 1), as `execute` sends them;
        # a parameter built without a value stays required.
        held = {name: bind.effective_value for bind, name in named.items() if not bind.required}
        self.held: dict[str, Any] = self._processed(held)
        columns = getattr(statement, "exported_columns", ())
        self.results: list[tuple[int, Processor]] = [
            (i, proc)
            for i, column in enumerate(columns)
            if (proc := column.type.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        ]

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        given = self._processed(values)
        return self.held | given if self.held else given

    def _processed(self, values: Mapping[str, Any]) -> dict[str, Any]:
        binds = self.binds
        return {k: binds[k](v) if k in binds else v for k, v in values.items()}

    def row(self, raw: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if raw is None or not self.results:
            return raw
        row = list(raw)
        for i, proc in self.results:
            row[i] = proc(row[i])
        return tuple(row)


class CompiledStatement:
    """A Core statement that PostgreSQL runs on the DBAPI cursor (see the module doc)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: tuple[Dialect, _Compiled] | None = None

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The statement's first row (None when none), its columns' result types applied.

        For statements of at most one row (by primary key, one INSERT ... RETURNING).
        """
        if conn.dialect.name != "postgresql":
            row = conn.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        compiled = self._for(conn.dialect)
        return compiled.row(self._run(conn, compiled, params, lambda cursor: cursor.fetchone()))

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of the statement, its columns' result types applied."""
        if conn.dialect.name != "postgresql":
            return [tuple(row) for row in conn.execute(self.statement, params)]
        compiled = self._for(conn.dialect)
        rows: list[tuple[Any, ...]] = self._run(conn, compiled, params, lambda c: c.fetchall())
        if not compiled.results:
            return rows
        return [compiled.row(raw) for raw in rows]  # type: ignore[misc]

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run the statement; the number of rows it changed."""
        if conn.dialect.name != "postgresql":
            return conn.execute(self.statement, params).rowcount
        count: int = self._run(conn, self._for(conn.dialect), params, lambda c: c.rowcount)
        return count

    def _for(self, dialect: Dialect) -> _Compiled:
        cached = self._compiled
        if cached is None or cached[0] is not dialect:
            cached = (dialect, _Compiled(self.statement, dialect))
            self._compiled = cached  # a race only compiles twice
        return cached[1]

    @staticmethod
    def _run(
        conn: Connection, compiled: _Compiled, values: Mapping[str, Any], read: Callable[[Any], R]
    ) -> R:
        """Execute on a cursor of the connection's own, `read` its result, close it.

        The driver converts values as they are fetched: a failure there is wrapped as
        `execute` wraps it, like one while executing.
        """
        if not conn.in_transaction():
            conn.begin()  # as `execute` autobegins, so that COMMIT covers this statement
        params = compiled.params(values)
        driver = conn.connection  # raises as `execute` does when the connection was invalidated
        try:
            cursor = driver.cursor()
        except Exception as exc:  # a closed connection: wrapped and invalidated as execute does
            conn._handle_dbapi_exception(exc, compiled.sql, params, None, None)
        try:
            conn._cursor_execute(cursor, compiled.sql, params)
            try:
                return read(cursor)
            except Exception as exc:
                conn._handle_dbapi_exception(exc, compiled.sql, params, cursor, None)
        finally:
            cursor.close()
