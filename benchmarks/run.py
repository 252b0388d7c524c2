"""Run the whole benchmark suite against the local PostgreSQL; print the table, write JSON.

    python -m benchmarks.run [--size 1000000] [--small-size 100000] [--runs 5]
                             [--json bench-results/results.json] [--only scan,dispatch]

Builds the data sets first (or reuses them when they already hold the right shape), in
databases ied_bench_<size> on the server of IED_BENCH_PG_ADMIN (default: local
PostgreSQL). Every figure is compared with a baseline measured in the same run, because
the machine is shared and noisy. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from benchmarks import (
    cli_start,
    dashboard,
    dispatching,
    http,
    latency,
    machine,
    scan,
    transitions,
)
from benchmarks.bench_rows import remove_bench_rows
from benchmarks.common import Figure, libpq_url
from benchmarks.generate import database_name, ensure
from benchmarks.report import text_table, write_json

PARTS = (
    "dashboard",
    "scan",
    "dispatch",
    "memory",
    "machine",
    "transitions",
    "http",
    "latency",
    "cli",
)
# Parts that need neither data set: `--only cli` builds none and cleans none.
WITHOUT_DATA_SETS = frozenset({"cli"})


@dataclass(frozen=True)
class Plan:
    """What to measure, where, and how often."""

    large_url: str
    small_url: str
    large_size: int
    small_size: int
    overdue: int
    runs: int = 5
    transactions: int = 300  # follow-ups cycled per side and run (3 transactions each)
    machine_n: int = 2000
    http_seconds: float = 10  # length of each wrk run (and of its in-process baseline)
    latency: latency.Shape = field(default_factory=latency.Shape)  # one run, whatever `runs` is
    parts: Sequence[str] = PARTS
    cli_repeats: int = cli_start.REPEATS  # processes per side and run (cli part)


def run_suite(plan: Plan, log: Callable[[str], None] = lambda _: None) -> list[Figure]:
    """Measure every part of `plan`, in an order that leaves each its data set intact."""
    steps: dict[str, Callable[[], list[Figure]]] = {
        "dashboard": lambda: dashboard.measure(plan.large_url, max(plan.runs, 5)),
        "scan": lambda: scan.measure(plan.large_url, plan.small_url, plan.runs, plan.overdue),
        "dispatch": lambda: dispatching.measure(plan.large_url, plan.runs, plan.overdue),
        "memory": lambda: [scan.memory(plan.large_url, plan.runs)],
        "machine": lambda: machine.measure(plan.runs, plan.machine_n),
        "transitions": lambda: transitions.measure(plan.large_url, plan.runs, plan.transactions),
        "http": lambda: http.measure(plan.large_url, plan.runs, plan.http_seconds),
        "latency": lambda: latency.measure(plan.large_url, plan.large_size, plan.latency),
        "cli": lambda: cli_start.measure(plan.runs, plan.cli_repeats),
    }
    data_sets = needs_data_sets(plan.parts)
    if data_sets:
        _clean(plan)
    figures: list[Figure] = []
    try:
        for part in PARTS:
            if part in plan.parts:
                started = time.perf_counter()
                figures += steps[part]()
                log(f"{part}: {time.perf_counter() - started:.0f} s")
    finally:
        if data_sets:
            _clean(plan)
    return figures


def needs_data_sets(parts: Sequence[str]) -> bool:
    return any(part not in WITHOUT_DATA_SETS for part in parts)


def _clean(plan: Plan) -> None:
    """Remove what earlier benchmarks added, so the data sets stay as generated."""
    for url, size in ((plan.large_url, plan.large_size), (plan.small_url, plan.small_size)):
        remove_bench_rows(url, size)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(scan.RESET)  # alerts, deliveries, channels, overdue_alerts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--small-size", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--transactions", type=int, default=300)
    parser.add_argument(
        "--http-seconds", type=float, default=10, help="length of each wrk run (http part)"
    )
    parser.add_argument("--json", type=Path, default=Path("bench-results/results.json"))
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    if unknown := set(parts) - set(PARTS):
        parser.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    urls = []
    for size in (args.size, args.small_size):
        if not needs_data_sets(parts):
            urls.append("")  # the parts WITHOUT_DATA_SETS make their own database
            continue
        started = time.perf_counter()
        url, built = ensure(database_name(size), size, args.overdue)
        took = time.perf_counter() - started
        log(f"{database_name(size)}: {'built' if built else 'reused'} in {took:.0f} s")
        urls.append(url)
    plan = Plan(
        large_url=urls[0],
        small_url=urls[1],
        large_size=args.size,
        small_size=args.small_size,
        overdue=args.overdue,
        runs=args.runs,
        transactions=args.transactions,
        parts=parts,
        http_seconds=args.http_seconds,
    )
    figures = run_suite(plan, log)
    print(text_table(figures))
    options = {k: v for k, v in vars(args).items() if k != "json"}
    write_json(args.json, figures, options)
    log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
