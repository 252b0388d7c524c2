"""Schema migrations: Alembic, forward only. Only `db upgrade` (and tests) import this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.pool import NullPool

from ied_workflow.db.engines import make_engine
from ied_workflow.errors import RuleViolation, ValidationError

MIGRATIONS = Path(__file__).with_name("migrations")


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
