"""The dashboard's counts, shared between the requests of one process for a moment.

Each dashboard request (API or console) runs nine capped counts, which bound the
dashboards at a million follow-ups. Counts that are a few seconds old serve staff as
well, so they are counted at most once per IED_DASHBOARD_COUNTS_SECONDS
and every answer says when they were counted. Lists stay live: only counts are shared
(the dashboard's, its lists' totals, and the console list's total past its first page).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from ied_workflow.db.unit_of_work import Database
from ied_workflow.follow_ups import queries
from ied_workflow.follow_ups.queries import COUNT_CAP, Filter

log = logging.getLogger(__name__)
# Counts on a connection at an instant (the unit of work's clock).
Counter = Callable[[Connection, datetime], dict[str, int]]
# Snapshots a process keeps: the console's list totals are keyed by their filters (an
# installer, a number of days), so the oldest snapshot makes room for a new one.
MAX_KEYS = 256


@dataclass(frozen=True, slots=True)
class Counted:
    """Counts and the instant (the database clock's) they were counted at."""

    at: datetime
    counts: dict[str, int]


class CountCache:
    """One snapshot per key (kind of counts, zone, cap), counted in its own unit of work.

    A request reads a snapshot's age on its own unit of work's clock, the one every other
    decision uses (on PostgreSQL, the transaction's start):

    - younger than the window (or up to one window ahead: a request that began a moment
      before a recount): it is the answer;
    - up to one more window old: still the answer, and one thread counts again in the
      background, so no request waits for a count (one took 1.5 s right after heavy writes);
    - older, or ahead by more (the clock went back): counted before answering, while the
      other requests answer the previous counts; none yet: counted once, the others wait.
    """

    def __init__(self, seconds: float, db: Database) -> None:
        self.window = timedelta(seconds=seconds)
        self._db = db
        self._held: dict[Hashable, Counted] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()  # guards _locks' creation only

    def dashboard(self, now: datetime, zone: ZoneInfo, *, cap: int = COUNT_CAP) -> Counted:
        """The dashboard's capped counts, as the API and the console show them."""
        return self.get(
            ("dashboard", zone.key, cap),
            now,
            lambda conn, at: queries.dashboard_counts(conn, at, zone, cap=cap),
        )

    def counts(
        self, now: datetime, filters: Mapping[str, Filter], zone: ZoneInfo, *, cap: int
    ) -> Counted:
        """Capped counts of these filters by name (the console dashboard's lists' totals)."""
        return self.get(
            ("counts", tuple(filters.items()), zone.key, cap),
            now,
            lambda conn, at: {
                name: queries.count(conn, where, at, zone, cap=cap)
                for name, where in filters.items()
            },
        )

    def get(self, key: Hashable, now: datetime, count: Counter) -> Counted:
        """The snapshot under `key` as of `now`, by the rules above."""
        if not self.window:
            return self._count(count)
        held = self._held.get(key)
        if held is not None and abs(now - held.at) < self.window:
            return held
        lock = self._lock(key)
        if held is not None and not lock.acquire(blocking=False):
            return held  # another thread is counting: the previous counts meanwhile
        if held is None:
            lock.acquire()  # nothing to answer yet: wait for the first count
        latest = self._held.get(key)
        if latest is not None and latest is not held:
            lock.release()
            return latest  # counted by another thread since this one looked
        if held is not None and self.window <= now - held.at < 2 * self.window:
            self._in_background(key, lock, count)  # releases the lock when done
            return held
        try:
            counted = self._count(count)
            self._keep(key, counted)
            return counted
        finally:
            lock.release()

    def _keep(self, key: Hashable, counted: Counted) -> None:
        """Hold `counted` under `key`; past MAX_KEYS, the oldest snapshot not being
        counted goes (every store holds the guard: no I/O in it)."""
        with self._guard:
            held = self._held
            if key not in held and len(held) >= MAX_KEYS:
                idle = (k for k in held if not (k in self._locks and self._locks[k].locked()))
                oldest = next(idle, next(iter(held)))
                del held[oldest]
                self._locks.pop(oldest, None)
            held[key] = counted

    def _count(self, count: Counter) -> Counted:
        """Count in a unit of work (the caller's, when it runs in one: `run_joined`)."""
        return self._db.run(lambda uow: Counted(uow.now, count(uow.conn, uow.now)))

    def _in_background(self, key: Hashable, lock: threading.Lock, count: Counter) -> None:
        """Count again on a thread of its own; `lock` is held, and released when done."""

        def recount() -> None:
            try:
                self._keep(key, self._count(count))
            except Exception:  # the previous counts stay; a later request tries again
                log.exception("counting again failed (%s); the previous counts stay", key)
            finally:
                lock.release()

        try:
            threading.Thread(target=recount, name="ied-recount", daemon=True).start()
        except RuntimeError:  # no thread to be had: the previous counts answer meanwhile
            lock.release()
            log.exception("could not start a recount; the next request tries again")

    def _lock(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
