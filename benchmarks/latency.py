"""Alert latency with a real `celery worker` and `celery beat`, and what they cost idle.

    idle CPU   worker (with its pool) and beat started as documented, default settings,
               nothing due: CPU seconds they used over a window, as % of one core.
    latency    follow-ups created through the product, due at scattered instants over
               the next minutes; seconds from each dueAt until the Slack sink (a separate
               process) received the message naming it.

The processes read only IED_* variables, as in production: the product's defaults except
the database, Redis (its own database and queue and redbeat prefix, so other runs on the
same Redis stay apart) and the Slack webhook (the sink). Time is real: the database's
clock decides what is overdue. Before the processes start, everything already overdue by
that clock is alerted and delivered in-process, and the data set's open rows that would
come due during the part are moved a day later (put back at the end), so the idle window
has nothing due and the latency window only the new follow-ups.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import psycopg
import redis

from benchmarks.bench_rows import BENCH_LEADS, remove_bench_rows
from benchmarks.common import OPS, Figure, Goal, bench_settings, libpq_url
from benchmarks.sinks import Sinks
from config.settings import Settings
from ied_workflow.db import engines
from ied_workflow.workflow import Workflow
from tests.support.processes import CeleryProcess

REDIS_URL = os.environ.get("IED_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
# The documented commands (docker-compose.yml): CeleryProcess adds --loglevel=INFO and,
# to a worker, config.celery_app.WORKER_OPTIONS.
WORKER_ARGS = ("--concurrency=2",)
BEAT_ARGS: tuple[str, ...] = ()
LATENCY_GOAL_S = 15
IDLE_GOAL_PERCENT = 2
NAMED = re.compile(rb"Follow-up #(\d+)")
SEED = 12


@dataclass(frozen=True)
class Shape:
    """How many follow-ups, over how long, and how long the idle window is."""

    follow_ups: int = 200
    spread_s: float = 120  # dueAt scattered over this many seconds...
    lead_s: float = 15  # ...starting this long after they are created
    idle_s: float = 60
    settle_s: float = 10  # after start: the first scan and dispatch run, then idle
    tail_s: float = 45  # waiting for the last alert after the last dueAt


def measure(url: str, size: int, shape: Shape = Shape()) -> list[Figure]:
    """One run: idle CPU, then the latency of new alerts, on the same worker and beat."""
    sinks = Sinks()
    try:
        with (
            _quiet_data_set(url, size, shape, sinks.slack_url),
            _deployment(url, sinks) as processes,
        ):
            idle = _settled_cpu(processes, shape)
            latencies = _latencies(url, sinks, shape)
    finally:
        sinks.close()
    return _figures(latencies, shape.follow_ups, idle)


def _figures(latencies: list[float], expected: int, idle: float) -> list[Figure]:
    complete = {"every follow-up alerted": len(latencies) == expected}
    cut = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    p99 = cut[98] if cut else max(latencies, default=float("inf"))
    note = f"{len(latencies)} of {expected} follow-ups reached the Slack sink"
    return [
        Figure(
            "alert latency p99", "s", [p99], goal=Goal("median", "<=", LATENCY_GOAL_S),
            note=note, checks=complete,
        ),
        Figure("alert latency median", "s", [statistics.median(latencies or [float("inf")])]),
        Figure("alert latency max", "s", [max(latencies, default=float("inf"))]),
        Figure(
            "worker and beat idle CPU", "% of one core", [idle],
            goal=Goal("median", "<=", IDLE_GOAL_PERCENT),
            note="the product's default settings, nothing due",
        ),
    ]  # fmt: skip


@contextlib.contextmanager
def _quiet_data_set(url: str, size: int, shape: Shape, slack_url: str) -> Iterator[None]:
    """Alert what is overdue now; move the data set's rows due soon a day on, and back."""
    remove_bench_rows(url, size)
    horizon = timedelta(seconds=_duration(shape) + 120)
    with psycopg.connect(libpq_url(url)) as conn:
        moved = [
            row[0]
            for row in conn.execute(
                "UPDATE follow_ups SET due_at = due_at + interval '1 day' WHERE id <= %s "
                "AND status IN ('pending', 'in_progress') "
                "AND due_at >= now() AND due_at < now() + %s RETURNING id",
                (size, horizon),
            )
        ]
    try:
        _alert_overdue(url, slack_url)
        yield
    finally:
        with psycopg.connect(libpq_url(url)) as conn:
            conn.execute(
                "UPDATE follow_ups SET due_at = due_at - interval '1 day' WHERE id = ANY(%s)",
                (moved,),
            )
        remove_bench_rows(url, size)


def _alert_overdue(url: str, slack_url: str) -> None:
    """Record and deliver, in-process, every alert owed now: the processes start clean."""
    workflow = Workflow(engines.make_engine(url), _slack_only(url, slack_url))
    try:
        workflow.scan_overdue()
        while sum(workflow.dispatch().sent.values()):
            pass
    finally:
        workflow.engine.dispose()


def _duration(shape: Shape) -> float:
    return 30 + shape.settle_s + shape.idle_s + shape.lead_s + shape.spread_s + shape.tail_s


def _slack_only(url: str, slack_url: str) -> Settings:
    return bench_settings(url, slack_webhook_url=slack_url, smtp_host=None, ops_emails=[])


@contextlib.contextmanager
def _deployment(url: str, sinks: Sinks) -> Iterator[list[CeleryProcess]]:
    """A worker and a beat on the product's defaults, killed on the way out."""
    space = f"ied-bench-lat-{os.getpid()}"
    env = {
        "IED_DATABASE_URL": url,
        "IED_REDIS_URL": REDIS_URL,
        "IED_SLACK_WEBHOOK_URL": sinks.slack_url,
        "IED_CELERY_QUEUE": space,
        "IED_REDBEAT_KEY_PREFIX": f"{space}:redbeat:",
    }
    folder = Path(tempfile.mkdtemp(prefix="ied-bench-lat-"))
    processes = [
        CeleryProcess("worker", env, folder / "worker.log", *WORKER_ARGS),
        CeleryProcess("beat", env, folder / "beat.log", *BEAT_ARGS),
    ]
    try:
        for process in processes:
            process.start().wait_ready(timeout=60)
        yield processes
    finally:
        for process in processes:
            process.stop()
        _forget(space)


def _forget(space: str) -> None:
    """Delete this run's queue, kombu bindings and redbeat keys from the shared Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        patterns = (f"{space}*", f"_kombu.binding*.{space}")
        keys = [key for pattern in patterns for key in client.scan_iter(match=pattern)]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _settled_cpu(processes: Sequence[CeleryProcess], shape: Shape) -> float:
    """% of one core the processes (and their children) used over the idle window."""
    time.sleep(shape.settle_s)
    roots = [p.process.pid for p in processes if p.process is not None]
    before, started = _cpu_seconds(roots), time.monotonic()
    time.sleep(shape.idle_s)
    after, took = _cpu_seconds(roots), time.monotonic() - started
    used = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    return 100 * used / took


def _cpu_seconds(roots: Sequence[int]) -> dict[int, float]:
    """User + system CPU seconds of each process in the trees (reaped children included)."""
    seen: dict[int, float] = {}
    for pid in roots:
        root = psutil.Process(pid)
        for process in (root, *root.children(recursive=True)):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                seen[process.pid] = times.user + times.system
        times = root.cpu_times()
        seen[pid] += times.children_user + times.children_system
    return seen


def _latencies(url: str, sinks: Sinks, shape: Shape) -> list[float]:
    """Create follow-ups due at scattered instants; seconds from dueAt to Slack, per alert."""
    due = _create_due_soon(url, shape)
    sinks.reset()
    deadline = time.monotonic() + shape.lead_s + shape.spread_s + shape.tail_s
    received: dict[int, float] = {}
    while time.monotonic() < deadline and len(received) < len(due):
        time.sleep(1)
        received = _first_receipts(sinks.slack_log(), due)
    return sorted(received[fid] - due[fid].timestamp() for fid in received)


def _create_due_soon(url: str, shape: Shape) -> dict[int, datetime]:
    rng = random.Random(SEED)
    workflow = Workflow(engines.make_engine(url), bench_settings(url))
    tag = f"{BENCH_LEADS}lat{os.getpid()}-"
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            now = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
            with conn.cursor().copy(
                "COPY leads (id, status, installer_id, updated_at) FROM STDIN"
            ) as c:
                for i in range(shape.follow_ups):
                    c.write_row((f"{tag}{i}", "assigned", "I-bench", now))
        due = {}
        for i in range(shape.follow_ups):
            at = now + timedelta(seconds=shape.lead_s + rng.random() * shape.spread_s)
            due[workflow.create(f"{tag}{i}", by=OPS, due_at=at).id] = at
        return due
    finally:
        workflow.engine.dispose()


def _first_receipts(log: list[tuple[float, bytes]], due: dict[int, datetime]) -> dict[int, float]:
    """When the sink first received a message naming each of `due`'s follow-ups."""
    first: dict[int, float] = {}
    for received, body in log:
        for match in NAMED.finditer(body):
            fid = int(match.group(1))
            if fid in due and fid not in first:
                first[fid] = received
    return first
