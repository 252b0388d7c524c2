"""Transitions per second: the service layer against the same transactions in raw psycopg.

Each transaction locks the follow-up (SELECT ... FOR UPDATE), checks the move, writes
the row (UPDATE with the version check), writes its audit event (INSERT) and commits;
log_contact also inserts its contact attempt, on both sides. The service side runs each
use case in a `UnitOfWork` with the production clock (`DatabaseClock`), so it also reads
the database's `now()` once per transaction, as production does (on PostgreSQL within
the locking SELECT, `SELECT follow_ups.*, now() ... FOR NO KEY UPDATE`); the raw side
uses a fixed instant. Workloads:
  one connection      start, log_contact, record_outcome on fresh follow-ups
  2 processes         the same, each process on its own follow-ups
  2 processes, hot    log_contact on the same 10 in_progress follow-ups, in turns
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import Connection

from benchmarks.bench_rows import make_follow_ups
from benchmarks.common import NOW, OPS, Figure, Goal, libpq_url
from ied_workflow.db import engines
from ied_workflow.db.clock import DatabaseClock
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.follow_ups import use_cases

WARM_UP = 20  # follow-ups cycled before the clock starts (statement caches, prepared plans)
HOT_ROWS = 10
GOAL = Goal("ratio", ">=", 0.8)  # of raw psycopg's rate
OVERHEAD_GOAL = Goal("median", "<=", 0.2)  # ms of service layer per transaction


class ServiceRunner:
    """The service layer on one SQLAlchemy connection, one unit of work per use case.

    Each transaction gets its own `UnitOfWork` with the production clock, which reads
    the database's `now()` once per transaction, in the locking SELECT.
    """

    def __init__(self, url: str) -> None:
        self.engine = engines.make_engine(url)
        self.conn: Connection = self.engine.connect()
        self.clock = DatabaseClock()
        self.outcome = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)

    def _run(self, use_case: Callable[..., object], fid: int, **options: Any) -> None:
        """One transaction, as `Database.run` makes it (without its retry of lost races)."""
        with self.conn.begin():
            uow = UnitOfWork(self.conn, self.clock)
            use_case(uow, fid, by=OPS, **options)
        uow.committed()

    def __call__(self, ids: Sequence[int], workload: str) -> None:
        for fid in ids:
            if workload == "hot":
                self._run(use_cases.log_contact, fid, outcome="no_response")
                continue
            self._run(use_cases.start, fid)
            self._run(use_cases.log_contact, fid, outcome="reached_customer")
            self._run(use_cases.record_outcome, fid, outcome=self.outcome)

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


SELECT = "SELECT * FROM follow_ups WHERE id = %s FOR UPDATE"
STATUS, STARTED, ATTEMPTS, REACHED, VERSION = 3, 5, 7, 11, 21  # positions in SELECT *
EVENT = (
    "INSERT INTO events (follow_up_id, type, from_status, to_status, actor_email, at, data) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


class RawRunner:
    """The same transactions written by hand with psycopg: the limit to compare with."""

    def __init__(self, url: str) -> None:
        self.pg = psycopg.connect(libpq_url(url))

    def __call__(self, ids: Sequence[int], workload: str) -> None:
        for fid in ids:
            if workload == "hot":
                self.contact(fid, "no_response")
                continue
            self.start(fid)
            self.contact(fid, "reached_customer")
            self.outcome(fid)

    def _locked(self, fid: int, allowed: tuple[str, ...]) -> tuple[Any, ...]:
        row = self.pg.execute(SELECT, (fid,)).fetchone()
        if row is None or row[STATUS] not in allowed:
            raise RuntimeError(f"follow-up {fid} cannot move from {row and row[STATUS]}")
        return row

    def _update(self, fid: int, version: int, sql: str, values: tuple[Any, ...]) -> None:
        done = self.pg.execute(
            f"UPDATE follow_ups SET {sql}, version = %s WHERE id = %s AND version = %s",
            (*values, version + 1, fid, version),
        )
        if done.rowcount != 1:
            raise RuntimeError(f"follow-up {fid} changed under its lock")

    def _event(self, fid: int, kind: str, old: str, new: str, data: dict[str, Any]) -> None:
        self.pg.execute(EVENT, (fid, kind, old, new, OPS, NOW, Json(data)))
        self.pg.commit()

    def start(self, fid: int) -> None:
        row = self._locked(fid, ("pending",))
        values = ("in_progress", NOW, NOW)
        self._update(fid, row[VERSION], "status = %s, started_at = %s, updated_at = %s", values)
        self._event(fid, "started", row[STATUS], "in_progress", {})

    def contact(self, fid: int, outcome: str) -> None:
        row = self._locked(fid, ("pending", "in_progress"))
        attempt = self.pg.execute(
            "INSERT INTO contact_attempts (follow_up_id, at, by_email, outcome, note) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (fid, NOW, OPS, outcome, None),
        ).fetchone()
        reached = row[REACHED] or outcome == "reached_customer"
        sql = (
            "status = %s, updated_at = %s, contact_attempt_count = %s, reached_customer = %s, "
            "last_contacted_at = %s, last_contacted_by_email = %s, last_contact_outcome = %s"
        )
        values = ("in_progress", NOW, row[ATTEMPTS] + 1, reached, NOW, OPS, outcome)
        self._update(fid, row[VERSION], sql, values)
        data = {"attemptId": attempt and attempt[0], "outcome": outcome, "at": NOW.isoformat()}
        self._event(fid, "contact_logged", row[STATUS], "in_progress", data)

    def outcome(self, fid: int) -> None:
        row = self._locked(fid, ("in_progress",))
        if not row[REACHED]:
            raise RuntimeError(f"follow-up {fid} has no reached contact")
        sql = (
            "status = %s, completed_at = %s, updated_at = %s, satisfaction_outcome = %s, "
            "has_issue = %s, issue_summary = %s, issue_resolved = %s, referral_opportunity = %s"
        )
        values = ("completed", NOW, NOW, "satisfied", False, None, False, False)
        self._update(fid, row[VERSION], sql, values)
        data = {"satisfactionOutcome": "satisfied", "hasIssue": False}
        self._event(fid, "outcome_recorded", "in_progress", "completed", data)

    def close(self) -> None:
        self.pg.close()


RUNNERS: dict[str, type[ServiceRunner] | type[RawRunner]] = {
    "service": ServiceRunner,
    "raw": RawRunner,
}


def transactions(workload: str, ids: Sequence[int]) -> int:
    return len(ids) * (1 if workload == "hot" else 3)


CHUNKS = 3  # each side runs in this many slices, alternating, so load bursts hit both


def _phases(plans: dict[str, list[int]], first: str) -> list[tuple[str, list[int]]]:
    """Slices of each side's plan, interleaved: first, other, first, other, ..."""
    order = (first, "raw" if first == "service" else "service")
    phases = []
    for k in range(CHUNKS):
        for side in order:
            plan = plans[side]
            phases.append((side, plan[k * len(plan) // CHUNKS : (k + 1) * len(plan) // CHUNKS]))
    return phases


def _rates(spans: list[list[tuple[str, float, float, int]]]) -> dict[str, float]:
    """Transactions per second of each side, over the phases' wall-clock time."""
    elapsed = {"service": 0.0, "raw": 0.0}
    done = {"service": 0, "raw": 0}
    for phase in zip(*spans, strict=True):
        side = phase[0][0]
        elapsed[side] += max(end for _, _, end, _ in phase) - min(start for _, start, _, _ in phase)
        done[side] += sum(count for *_, count in phase)
    return {side: done[side] / elapsed[side] for side in elapsed}


def _run_phases(
    url: str, warm: list[int], phases: list[tuple[str, list[int]]], workload: str, barrier: Any
) -> list[tuple[str, float, float, int]]:
    runners = {side: RUNNERS[side](url) for side in RUNNERS}
    try:
        for side, runner in runners.items():
            runner(
                warm[: len(warm) // 2] if side == "service" else warm[len(warm) // 2 :], workload
            )
        spans = []
        for side, ids in phases:
            if barrier is not None:
                barrier.wait()
            started = time.monotonic()
            runners[side](ids, workload)
            spans.append((side, started, time.monotonic(), transactions(workload, ids)))
        return spans
    finally:
        for runner in runners.values():
            runner.close()


def one_connection(url: str, count: int, first: str) -> dict[str, float]:
    """Transactions per second of each side, each on its own single connection."""
    plans = {side: make_follow_ups(url, count) for side in RUNNERS}
    warm = make_follow_ups(url, 2 * WARM_UP)
    return _rates([_run_phases(url, warm, _phases(plans, first), "cycle", None)])


def _worker(
    url: str,
    warm: list[int],
    phases: list[tuple[str, list[int]]],
    mode: str,
    barrier: Any,
    out: Any,
) -> None:
    out.put(_run_phases(url, warm, phases, mode, barrier))


def two_processes(url: str, count: int, workload: str, first: str) -> dict[str, float]:
    """Transactions per second of two processes together ("disjoint" or "hot" rows)."""
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    if workload == "hot":
        hot = make_follow_ups(url, HOT_ROWS, status="in_progress")
        plans = [
            {side: [hot[(i + w) % HOT_ROWS] for i in range(3 * count)] for side in RUNNERS}
            for w in range(2)
        ]
        warm = [hot[:4], hot[4:8]]
    else:
        plans = [{side: make_follow_ups(url, count) for side in RUNNERS} for _ in range(2)]
        warm = [make_follow_ups(url, 2 * WARM_UP) for _ in range(2)]
    mode = "hot" if workload == "hot" else "cycle"
    workers = [
        context.Process(
            target=_worker, args=(url, warm[w], _phases(plans[w], first), mode, barrier, out)
        )
        for w in range(2)
    ]
    for worker in workers:
        worker.start()
    spans = [out.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode:
            raise RuntimeError(f"a benchmark worker failed with exit code {worker.exitcode}")
    return _rates(spans)


def measure(url: str, runs: int, count: int) -> list[Figure]:
    """The three transition figures, service against raw, interleaved within every run."""
    workloads: dict[str, Callable[[str], dict[str, float]]] = {
        "transitions, 1 connection": lambda first: one_connection(url, count, first),
        "transitions, 2 processes, disjoint rows": lambda first: two_processes(
            url, count, "disjoint", first
        ),
        "transitions, 2 processes, 10 hot rows": lambda first: two_processes(
            url, count, "hot", first
        ),
    }
    figures = []
    for name, run in workloads.items():
        got: dict[str, list[float]] = {"service": [], "raw": []}
        for i in range(runs):
            rates = run("service" if i % 2 == 0 else "raw")
            for side, rate in rates.items():
                got[side].append(rate)
        note = (
            "baseline: raw psycopg, same statements per transaction; the service also reads "
            "the database clock (now() in its locking SELECT), as production does"
        )
        figures.append(Figure(name, "tx/s", got["service"], got["raw"], GOAL, note))
        if name == "transitions, 1 connection":
            figures.append(_overhead(got["service"], got["raw"]))
    return figures


def _overhead(service: list[float], raw: list[float]) -> Figure:
    """Milliseconds the service layer adds to a transaction, run by run (1/service - 1/raw)."""
    extra = [1000 / s - 1000 / r for s, r in zip(service, raw, strict=True)]
    note = "1 connection: 1/service rate - 1/raw rate of the same run"
    return Figure(
        "transitions, service overhead per transaction", "ms", extra, [], OVERHEAD_GOAL, note
    )
