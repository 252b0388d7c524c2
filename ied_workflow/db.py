"""Engines and migrations: the one place that knows how to reach the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ied_workflow.errors import RuleViolation, Unavailable, ValidationError

MIGRATIONS = Path(__file__).with_name("migrations")


# Every PostgreSQL session's settings, after (so over) any `options` a caller gives:
# - no JIT: every query here is index-driven and short; compiling one costs more than
#   running it (an overdue scan batch took 1.8 s instead of 0.1 s with JIT on);
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


def alembic_config(url: str) -> Config:
    """Alembic configured from code, so no alembic.ini has to sit in the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> str | None:
    """Bring the schema at `url` up to `revision`; returns the revision it is at after.

    Only forward: a target below the current revision is refused with nothing changed
    (0004 cannot be undone without losing deliveries; restore a backup instead).
    """
    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    target = _resolve(script, revision)
    current = current_revision(url)
    if current is not None and target != current and target in _ancestors(script, current):
        raise RuleViolation(
            f"the schema is at {current}; `db upgrade {revision}` would go back, and downgrades"
            " are refused (restore a backup instead)"
        )
    command.upgrade(config, revision)
    return current_revision(url)


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at (None: no schema yet)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _resolve(script: ScriptDirectory, revision: str) -> str | None:
    """The revision id `revision` names (None for base); ValidationError when none."""
    if revision == "base":
        return None
    try:
        found = script.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        known = ", ".join(sorted(r.revision for r in script.walk_revisions()))
        raise ValidationError(f"unknown revision {revision!r}; known: head, base, {known}")
    return found.revision


def _ancestors(script: ScriptDirectory, current: str) -> set[str | None]:
    """`current`'s strict ancestors, base (None) included."""
    below = {r.revision for r in script.iterate_revisions(current, "base")} - {current}
    return {None, *below}


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
