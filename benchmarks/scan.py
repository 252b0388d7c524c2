"""The overdue scan end to end against the same writes in one hand-written statement.

    first    the alert tables are emptied, then one scan writes every alert
             (one alert per overdue follow-up) and remembers each episode
    repeat   the same scan again: every episode is remembered, nothing is written
The baseline is one hand-written statement over the same partial index, doing what
`ied_workflow.alerts.overdue` does: the owed episodes (left join on overdue_alerts),
INSERT ... SELECT into alerts with the same episode keys ON CONFLICT DO NOTHING, and
the upsert of overdue_alerts (due_at, reminder, alerted_at); then COMMIT. It does not
batch (the product walks the index in batches of scan_batch_size).
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
from ied_workflow.db import engines
from ied_workflow.workflow import Workflow

ALERT_TABLES = "alerts, deliveries, channels, overdue_alerts"
RESET = f"TRUNCATE {ALERT_TABLES} RESTART IDENTITY"  # fixed names
# Reminder 0 on a first episode (nothing remembered, or the due date moved); the next
# reminder once the last alert is `reminder_every` old; nothing otherwise.
RAW_SCAN = """
WITH new AS (
  SELECT f.id, f.due_at,
         CASE WHEN s.due_at = f.due_at THEN s.reminder + 1 ELSE 0 END AS reminder
  FROM follow_ups f
  LEFT JOIN overdue_alerts s ON s.follow_up_id = f.id
  WHERE f.status IN ('pending', 'in_progress') AND f.due_at < %(now)s
    AND (s.follow_up_id IS NULL OR s.due_at <> f.due_at OR s.alerted_at <= %(last_before)s)
), remembered AS (
  INSERT INTO overdue_alerts (follow_up_id, due_at, reminder, alerted_at)
  SELECT id, due_at, reminder, %(now)s FROM new
  ON CONFLICT (follow_up_id) DO UPDATE SET due_at = excluded.due_at,
    reminder = excluded.reminder, alerted_at = excluded.alerted_at
)
INSERT INTO alerts (kind, follow_up_id, episode_key, created_at)
SELECT 'overdue', id,
       'overdue:' || id || ':' || floor(extract(epoch FROM due_at))::bigint || ':' || reminder,
       %(now)s
FROM new
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
        self.workflow = Workflow(engines.make_engine(url), self.settings)
        self.pg = psycopg.connect(libpq_url(url), autocommit=True)

    def reset_alerts(self) -> None:
        self.pg.execute(RESET)

    def product(self) -> float:
        started = time.perf_counter()
        self.workflow.scan_overdue(NOW)
        return time.perf_counter() - started

    def raw(self) -> float:
        every = timedelta(hours=self.settings.overdue_reminder_hours)
        values = {"now": NOW, "last_before": NOW - every}
        started = time.perf_counter()
        with self.pg.transaction():
            self.pg.execute(RAW_SCAN, values)
        return time.perf_counter() - started

    def raw_query(self) -> float:
        started = time.perf_counter()
        self.pg.execute(RAW_QUERY, (NOW,)).fetchall()
        return time.perf_counter() - started

    def alert_rows(self) -> tuple[int, int]:
        """Rows in alerts and in overdue_alerts."""
        row = self.pg.execute(
            "SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM overdue_alerts)"
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

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
    note = (
        f"{overdue} overdue, one alert per follow-up; baseline: one raw INSERT ... SELECT "
        "into alerts with the overdue_alerts upsert, same partial index"
    )
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
        large.reset_alerts()
        got["first"].append(large.product() * 1000)
        _check(large, expected)
        got["repeat"].append(large.product() * 1000)
        _check(large, expected)  # a repeat writes nothing
        small.reset_alerts()
        got["small_first"].append(small.product() * 1000)

    def raw() -> None:
        large.reset_alerts()
        got["raw_first"].append(large.raw() * 1000)
        _check(large, expected)
        got["raw_repeat"].append(large.raw() * 1000)
        _check(large, expected)
        got["raw_query"].append(large.raw_query() * 1000)

    for step in (product, raw) if product_first else (raw, product):
        step()


def _check(scanner: Scanner, expected: int) -> None:
    found = scanner.alert_rows()
    if found != (expected, expected):
        raise RuntimeError(f"scan wrote {found} (alerts, overdue_alerts), expected {expected}")


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
            pg.execute(RESET)  # a first scan writes most
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
