"""The overdue scan end to end against the raw indexed query and INSERT ... SELECT.

    first    the outbox is emptied, then one scan writes every alert (2 channels)
    repeat   the same scan again: every alert exists already, nothing is written
The baseline is one hand-written INSERT ... SELECT ... ON CONFLICT DO NOTHING per
channel over the same partial index, writing the same dedupe keys, then COMMIT.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import psycopg

from benchmarks.common import NOW, Figure, Goal, bench_settings, libpq_url
from ied_workflow import db
from ied_workflow.workflow import Workflow, alert_channels

RAW_INSERT = """
INSERT INTO notifications
  (kind, channel, follow_up_id, dedupe_key, status, attempts, next_attempt_at, created_at)
SELECT 'overdue', %(channel)s, f.id,
       'overdue:' || f.id || ':' || floor(extract(epoch FROM f.due_at))::bigint || ':'
         || ((%(now_epoch)s - floor(extract(epoch FROM f.due_at))::bigint) / %(every)s),
       'pending', 0, %(now)s, %(now)s
FROM follow_ups f
WHERE f.status IN ('pending', 'in_progress') AND f.due_at < %(now)s
ON CONFLICT DO NOTHING
"""
RAW_QUERY = (
    "SELECT id, due_at FROM follow_ups "
    "WHERE status IN ('pending', 'in_progress') AND due_at < %s ORDER BY due_at, id"
)
MEMORY_LIMIT_MB = 200


class Scanner:
    """Runs the product scan and its raw counterpart on one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.settings = bench_settings(url)
        self.channels = alert_channels(self.settings)
        self.workflow = Workflow(db.make_engine(url), self.settings)
        self.pg = psycopg.connect(libpq_url(url), autocommit=True)

    def reset_outbox(self) -> None:
        self.pg.execute("TRUNCATE notifications, overdue_alerts RESTART IDENTITY")

    def product(self) -> float:
        started = time.perf_counter()
        self.workflow.scan_overdue(NOW)
        return time.perf_counter() - started

    def raw(self) -> float:
        every = int(timedelta(hours=self.settings.overdue_reminder_hours).total_seconds())
        values = {"now": NOW, "now_epoch": int(NOW.timestamp()), "every": every}
        started = time.perf_counter()
        with self.pg.transaction():
            for channel in self.channels:
                self.pg.execute(RAW_INSERT, {**values, "channel": channel})
        return time.perf_counter() - started

    def raw_query(self) -> float:
        started = time.perf_counter()
        self.pg.execute(RAW_QUERY, (NOW,)).fetchall()
        return time.perf_counter() - started

    def outbox_rows(self) -> int:
        row = self.pg.execute("SELECT count(*) FROM notifications").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.pg.close()
        self.workflow.engine.dispose()


def measure(large_url: str, small_url: str, runs: int, overdue: int) -> list[Figure]:
    """Scan figures: first and repeat against raw, 1M against 100k, repeat against the query."""
    large, small = Scanner(large_url), Scanner(small_url)
    got: dict[str, list[float]] = {key: [] for key in KEYS}
    try:
        for i in range(runs):
            _one_round(large, small, got, product_first=i % 2 == 0, expected=overdue)
    finally:
        large.close()
        small.close()
    ratio_2 = Goal("ratio", "<=", 2.0)
    note = f"{overdue} overdue, {len(large.channels)} channels; baseline: raw INSERT ... SELECT"
    return [
        Figure("scan overdue, first run", "ms", got["first"], got["raw_first"], ratio_2, note),
        Figure("scan overdue, repeat", "ms", got["repeat"], got["raw_repeat"], ratio_2, note),
        Figure(
            "scan overdue, repeat vs query alone",
            "ms",
            got["repeat"],
            got["raw_query"],
            ratio_2,
            "baseline: the raw indexed SELECT of the overdue rows alone",
        ),
        Figure(
            "scan overdue, large / small table",
            "ms",
            got["first"],
            got["small_first"],
            Goal("ratio", "<=", 1.2),
            "baseline: the same first scan on the small data set (same overdue count)",
        ),
    ]


KEYS = ("first", "repeat", "raw_first", "raw_repeat", "raw_query", "small_first")


def _one_round(
    large: Scanner,
    small: Scanner,
    got: dict[str, list[float]],
    *,
    product_first: bool,
    expected: int,
) -> None:
    def product() -> None:
        large.reset_outbox()
        got["first"].append(large.product() * 1000)
        _check(large, expected)
        got["repeat"].append(large.product() * 1000)
        small.reset_outbox()
        got["small_first"].append(small.product() * 1000)

    def raw() -> None:
        large.reset_outbox()
        got["raw_first"].append(large.raw() * 1000)
        _check(large, expected)
        got["raw_repeat"].append(large.raw() * 1000)
        got["raw_query"].append(large.raw_query() * 1000)

    for step in (product, raw) if product_first else (raw, product):
        step()


def _check(scanner: Scanner, expected: int) -> None:
    found = scanner.outbox_rows()
    if found != expected * len(scanner.channels):
        raise RuntimeError(f"scan wrote {found} rows, expected {expected} per channel")


def worker_peak_rss(url: str, scan: bool) -> float:
    """Peak RSS in MB of a fresh process that imports the worker code, and scans if asked."""
    command = [sys.executable, "-m", "benchmarks.scan_worker", url, *(["--scan"] if scan else [])]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return float(report["peak_rss_mb"])


def memory(url: str, runs: int) -> Figure:
    """Peak RSS of a worker process running the scan, against one that only starts up."""
    with psycopg.connect(libpq_url(url), autocommit=True) as pg:
        scanned, idle = [], []
        for _ in range(runs):
            pg.execute(
                "TRUNCATE notifications, overdue_alerts RESTART IDENTITY"
            )  # a first scan writes most
            scanned.append(worker_peak_rss(url, scan=True))
            idle.append(worker_peak_rss(url, scan=False))
    return Figure(
        "worker peak RSS, scan of the large table",
        "MB",
        scanned,
        idle,
        Goal("median", "<=", MEMORY_LIMIT_MB),
        "baseline: the same worker process started without scanning",
    )
