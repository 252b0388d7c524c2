"""The least program that does `ied-workflow followup show 1`'s work: the ceiling of its goal.

Typer parses the argument, pydantic-settings reads IED_DATABASE_URL, SQLAlchemy reads the
row, and it prints each field. It has nothing else: no machine, no domain, no layers.

    python benchmarks/least_cli.py 1
"""

from __future__ import annotations

import typer
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import create_engine, text


class LeastSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IED_", env_file=None)
    database_url: str = "sqlite:///ied_workflow.db"


def show(follow_up_id: int) -> None:
    engine = create_engine(LeastSettings().database_url)
    with engine.connect() as conn:
        query = text("SELECT * FROM follow_ups WHERE id = :id")
        row = conn.execute(query, {"id": follow_up_id}).one()
    for name, value in row._mapping.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    typer.run(show)
