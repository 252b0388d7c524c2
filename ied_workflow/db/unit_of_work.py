"""The unit of work: one transaction, its clock reading, and what runs after COMMIT.

A use case receives a `UnitOfWork`, writes through `uow.conn`, reads the time from
`uow.now`, and registers follow-on work (ask a worker to dispatch the alert it wrote)
with `uow.after_commit`. `Database.run` opens the transaction, retries lost races,
commits, and only then runs what was registered: nothing is announced that did not
happen, and nothing is committed inside a callback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, func
from sqlalchemy.exc import DBAPIError

from ied_workflow.db.clock import Clock, DatabaseClock, FixedClock
from ied_workflow.db.compiled import CompiledStatement
from ied_workflow.errors import ConcurrentModification

R = TypeVar("R")
ATTEMPTS = 5  # a lost optimistic-lock race or a deadlock is retried this many times
log = logging.getLogger(__name__)


def _nothing() -> None:
    """The default follow-on of a written alert: the periodic dispatch will find it."""


class UnitOfWork:
    """One transaction on `conn`; `now` is read from the clock once, when first asked."""

    def __init__(
        self, conn: Connection, clock: Clock, dispatch_soon: Callable[[], None] = _nothing
    ) -> None:
        self.conn = conn
        self.dispatch_soon = dispatch_soon
        self._clock = clock
        self._now: datetime | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def now(self) -> datetime:
        """The transaction's instant: every decision and timestamp in it uses this one."""
        if self._now is None:
            self._now = self._clock.now(self.conn)
        return self._now

    @property
    def now_in_sql(self) -> bool:
        """True when the next statement should also read the clock (`now()`) for this unit.

        The use case's first statement then brings the instant with its rows, and
        `uow.now` needs no `SELECT now()` of its own: the same clock, one round trip less.
        """
        return self._now is None and self._clock.in_sql(self.conn)

    def read_now(self, value: datetime | None) -> None:
        """Take the clock's reading from a statement that selected `now()` (see `now_in_sql`)."""
        if self._now is None and value is not None:
            self._now = value.astimezone(UTC)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the transaction has committed (once, however often asked)."""
        if action not in self._after_commit:
            self._after_commit.append(action)

    def committed(self) -> None:
        """Run the registered actions; a failing one is logged, the commit stands."""
        for action in self._after_commit:
            try:
                action()
            except Exception:  # a lost hint is caught up by the periodic dispatch
                log.warning("after-commit action %s failed", getattr(action, "__name__", action))


@dataclass(frozen=True, slots=True)
class FirstRead:
    """A unit of work's first statement, which also brings the clock's reading when the
    clock is the database's (`uow.now_in_sql`): the same instant, no `SELECT now()`."""

    plain: CompiledStatement
    with_now: CompiledStatement

    @classmethod
    def of(cls, query: Select[Any]) -> FirstRead:
        clocked = query.add_columns(func.now().label("database_now"))
        return cls(CompiledStatement(query), CompiledStatement(clocked))

    def first(self, uow: UnitOfWork, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The query's first row (without the clock), None when none."""
        if not uow.now_in_sql:
            return self.plain.first(uow.conn, params)
        row = self.with_now.first(uow.conn, params)
        if row is None:
            return None
        uow.read_now(row[-1])
        return tuple(row[:-1])


class Database:
    """Runs units of work on one engine with one clock."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock | None = None,
        dispatch_soon: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or DatabaseClock()
        self.dispatch_soon = dispatch_soon or _nothing
        self._joined = threading.local()  # the unit `run_joined` holds open on this thread

    def run_joined(self, work: Callable[[UnitOfWork], R]) -> R:
        """Run `work` as one unit of work that the `run` calls it makes join.

        An HTTP request checks its caller and then calls a use case: in one transaction
        that is one pool checkout and one BEGIN/COMMIT instead of two. A lost race retries
        the whole of `work`, the check included.
        """

        def joined(uow: UnitOfWork) -> R:
            self._joined.uow = uow
            try:
                return work(uow)
            finally:
                self._joined.uow = None

        return self.run(joined)

    def run(self, work: Callable[[UnitOfWork], R], *, now: datetime | None = None) -> R:
        """Run `work` in one transaction, retrying lost races; then the after-commit actions.

        `now` fixes the clock for this call (and keeps it out of a joined unit). A
        connection lost before COMMIT rolled everything back, so the work runs again on a
        fresh connection (this replaces a ping per checkout); one lost during COMMIT may
        have committed, so it is raised.
        """
        joined: UnitOfWork | None = getattr(self._joined, "uow", None)
        if joined is not None and now is None:
            return work(joined)  # inside `run_joined`: its transaction, its retries
        clock = self.clock if now is None else FixedClock(now)
        for attempt in range(1, ATTEMPTS + 1):
            committing = False
            try:
                with self.engine.connect() as conn, conn.begin():
                    uow = UnitOfWork(conn, clock, self.dispatch_soon)
                    result = work(uow)
                    committing = True
                uow.committed()
                return result
            except ConcurrentModification:
                if attempt == ATTEMPTS:
                    raise
            except DBAPIError as exc:
                if attempt == ATTEMPTS or not _is_retryable(exc, committing):
                    raise
        raise AssertionError("unreachable")


def _is_retryable(exc: DBAPIError, committing: bool) -> bool:
    """Deadlocks, serialisation failures, SQLite lock timeouts; lost connections before COMMIT."""
    code = getattr(exc.orig, "sqlstate", None)
    if code in ("40001", "40P01") or "database is locked" in str(exc.orig):
        return True
    return exc.connection_invalidated and not committing
