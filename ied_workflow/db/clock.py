"""Where "now" comes from: one clock per unit of work, settable by callers and tests.

Every decision that compares instants written by different processes (leases, next
attempts, due and overdue) reads the same clock: the database's. A worker whose host
clock runs fast or slow then cannot steal a lease still held, nor strand a retry in
its own future. SQLite is a file on this host, so its clock is the host's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, func, select

from ied_workflow import validation


class Clock(Protocol):
    """Tells the time of one transaction."""

    def now(self, conn: Connection) -> datetime:
        """The current instant, timezone-aware in UTC."""

    def in_sql(self, conn: Connection) -> bool:
        """True when a statement on `conn` can read this clock as SQL `now()` alongside its rows."""


_NOW = select(func.now())


class DatabaseClock:
    """The database server's clock: the one source in production."""

    def now(self, conn: Connection) -> datetime:
        if conn.dialect.name == "sqlite":
            return datetime.now(UTC)  # embedded: the database's clock is this host's
        value: datetime = conn.execute(_NOW).scalar_one()
        return value.astimezone(UTC)

    def in_sql(self, conn: Connection) -> bool:
        # PostgreSQL's now() is the transaction's start, whichever statement reads it:
        # reading it in the locking SELECT gives the same instant without a round trip.
        return conn.dialect.name == "postgresql"


class FixedClock:
    """A clock that stands still until told otherwise: `--now`, tests, replays."""

    def __init__(self, at: datetime) -> None:
        self.at = validation.aware(at, "now").astimezone(UTC)

    def now(self, conn: Connection) -> datetime:
        return self.at

    def in_sql(self, conn: Connection) -> bool:
        return False

    def set(self, at: datetime) -> None:
        self.at = validation.aware(at, "now").astimezone(UTC)

    def advance(self, by: timedelta) -> None:
        self.at += by
