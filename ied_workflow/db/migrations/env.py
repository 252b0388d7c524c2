"""Alembic environment: runs migrations with ied-workflow's own engine settings."""

from __future__ import annotations

from alembic import context

from ied_workflow.db.engines import make_engine
from ied_workflow.db.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
