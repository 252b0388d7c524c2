"""Engines: the one place that knows how to reach the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from ied_workflow.errors import Unavailable

# Every PostgreSQL session's settings, after (so over) any `options` a caller gives:
# - no JIT: every query here is index-driven and short; compiling one costs more than
#   running it (an overdue scan batch was many times slower with JIT on);
# - TimeZone UTC: psycopg then returns timestamptz values in `datetime.UTC`, which is
#   what `tables.UTCDateTime` promises, so it converts nothing on PostgreSQL (and
#   `make_engine` checks it on every new connection).
SESSION_OPTIONS = "-c jit=off -c TimeZone=UTC"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings ied-workflow relies on."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    # No pool_pre_ping: Workflow.transaction retries work whose connection was lost
    # before COMMIT, which saves a round trip on every transaction.
    connect_args = dict(kwargs.pop("connect_args", {}))
    options = f"{connect_args.get('options', '')} {SESSION_OPTIONS}".strip()
    engine = create_engine(url, connect_args=connect_args | {"options": options}, **kwargs)

    @event.listens_for(engine, "connect")
    def _in_utc(dbapi_connection: Any, _record: Any) -> None:
        # libpq applies PGTZ from the environment after `options`, and a pooler may drop
        # `options`: a session that did not end up in UTC is set to it, once per connection.
        if dbapi_connection.info.parameter_status("TimeZone") != "UTC":
            dbapi_connection.execute("SET TIME ZONE 'UTC'")
            dbapi_connection.commit()  # a SET rolled back with its transaction is undone

    return engine


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("connect_args", {"timeout": 30})
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, issue BEGIN so that writers serialise
        # (BEGIN IMMEDIATE) instead of failing late with "database is locked".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if make_url(url).database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist (opening it would create it)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or name in (None, "", ":memory:"):
        return None
    if name.startswith("file:"):
        return None  # a URI filename: left to SQLite
    path = Path(name)
    return None if path.exists() else path


def require_database(url: str) -> None:
    """Refuse to go on when a SQLite database does not exist, rather than create an empty one."""
    path = missing_sqlite_file(url)
    if path is not None:
        raise Unavailable(f"no database here ({path}): run `ied-workflow db upgrade`")
