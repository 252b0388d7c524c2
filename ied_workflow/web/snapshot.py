"""The dashboard's counts, shared between the requests of one process for a moment.

Each dashboard request (API or console) ran nine capped counts, 9-16 ms of database CPU:
at 1M follow-ups the dashboards were bound by it. Counts that are a few seconds old
serve staff as well, so they are counted at most once per IED_DASHBOARD_COUNTS_SECONDS
and every answer says when they were counted. Lists stay live: only counts are shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ied_workflow import queries
from ied_workflow.queries import COUNT_CAP, Filter
from ied_workflow.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Counted:
    """Counts and the instant (the database clock's) they were counted at."""

    at: datetime
    counts: dict[str, int]


class CountSnapshots:
    """One snapshot per key (kind of counts, zone, cap), reused while younger than `seconds`.

    Freshness is read on the unit of work's clock, the one every other decision uses.
    On PostgreSQL that is the transaction's start, so a request that began a moment before
    another thread's recount sees a snapshot slightly in its future and reuses it; one more
    than the window ahead means the clock went back, and is counted again.
    """

    def __init__(self, seconds: float) -> None:
        self.window = timedelta(seconds=seconds)
        self._held: dict[Hashable, Counted] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()  # guards _locks' creation only

    def dashboard(self, uow: UnitOfWork, zone: ZoneInfo, *, cap: int = COUNT_CAP) -> Counted:
        """The dashboard's capped counts, as the API and the console show them."""
        return self.get(
            ("dashboard", zone.key, cap),
            uow.now,
            lambda: queries.dashboard_counts(uow.conn, uow.now, zone, cap=cap),
        )

    def counts(
        self, uow: UnitOfWork, filters: Mapping[str, Filter], zone: ZoneInfo, *, cap: int
    ) -> Counted:
        """Capped counts of these filters by name (the console dashboard's lists' totals)."""
        key = ("counts", tuple(filters.items()), zone.key, cap)
        now = uow.now
        return self.get(
            key,
            now,
            lambda: {
                name: queries.count(uow.conn, where, now, zone, cap=cap)
                for name, where in filters.items()
            },
        )

    def get(self, key: Hashable, now: datetime, count: Callable[[], dict[str, int]]) -> Counted:
        """The snapshot under `key` if fresh at `now`, else counted again by one thread.

        While one thread counts again, the others answer the previous snapshot rather than
        queue behind it (or count too); only the very first count makes them wait.
        """
        if not self.window:
            return Counted(now, count())
        held = self._held.get(key)
        if held is not None and self._fresh(held, now):
            return held
        lock = self._lock(key)
        if held is not None and not lock.acquire(blocking=False):
            return held  # another thread is counting: the previous snapshot meanwhile
        if held is None:
            lock.acquire()  # nothing to answer yet: wait for the first count
        try:
            latest = self._held.get(key)
            if latest is not None and latest is not held:
                return latest  # counted by another thread since this one looked
            counted = self._held[key] = Counted(now, count())
            return counted
        finally:
            lock.release()

    def _fresh(self, held: Counted, now: datetime) -> bool:
        return abs(now - held.at) < self.window

    def _lock(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
