"""What every area of the Python API stands on: the settings and the units of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Self, TypeVar

from sqlalchemy import Engine

from config.settings import Settings, get_settings
from ied_workflow.db.clock import Clock
from ied_workflow.db.engines import make_engine
from ied_workflow.db.unit_of_work import Database, UnitOfWork

R = TypeVar("R")


class WorkflowBase:
    """The settings and the database every call of the Python API runs on."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock | None = None,
        dispatch_soon: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.db = Database(engine, clock, dispatch_soon)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **engine_options: Any) -> Self:
        settings = settings or get_settings()
        return cls(make_engine(settings.database_url, **engine_options), settings)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def run(self, work: Callable[[UnitOfWork], R], *, now: datetime | None = None) -> R:
        """Run `work` as one unit of work (for use cases composed by the caller)."""
        return self.db.run(work, now=now)

    def together(self, work: Callable[[UnitOfWork], R]) -> R:
        """Run `work` as one unit of work that the calls it makes (`self.get`, ...) join:
        a page or a request reads in one transaction, at one instant."""
        return self.db.run_joined(work)

    def now(self) -> datetime:
        """The clock's current instant (the database's, unless a clock was given)."""
        return self.run(lambda uow: uow.now)
