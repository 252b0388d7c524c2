"""The benchmark suite runs end to end on a tiny data set, so it cannot rot.

No timing is asserted here: the figures only have to exist. docs/benchmarks.md has the
real run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import http
from benchmarks.dashboard import FILTERS
from benchmarks.generate import existing_shape, generate, shape
from benchmarks.http import API_READS, CONSOLE_PAGES
from benchmarks.latency import Shape
from benchmarks.report import text_table, write_json
from benchmarks.run import Plan, run_suite
from ied_workflow.db import migrate
from tests.support.shared_servers import scratch_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
OVERDUE = 60


@pytest.fixture(scope="module")
def data_sets() -> Iterator[tuple[str, str]]:
    """Two tiny generated data sets with the same overdue count."""
    with scratch_postgres_database() as large, scratch_postgres_database() as small:
        for url, size in ((large, 600), (small, 200)):
            migrate.upgrade(url)
            generate(url, size, OVERDUE)
        yield large, small


def test_generator_records_its_shape(data_sets: tuple[str, str]) -> None:
    # Given a generated data set, Then it says what it holds, so a rerun can reuse it
    assert existing_shape(data_sets[0]) == shape(600, OVERDUE)


def test_suite_produces_every_figure(data_sets: tuple[str, str], tmp_path: Path) -> None:
    # Given the tiny data sets, When the whole suite runs once
    plan = Plan(
        large_url=data_sets[0],
        small_url=data_sets[1],
        large_size=600,
        small_size=200,
        overdue=OVERDUE,
        runs=1,
        transactions=10,
        machine_n=100,
        http_seconds=1,
        cli_repeats=2,
        # A real worker and beat: a handful of follow-ups due within seconds, short windows
        latency=Shape(follow_ups=5, spread_s=5, lead_s=5, idle_s=2, settle_s=2, tail_s=30),
    )
    figures = run_suite(plan)
    # Then every figure is there, with a baseline wherever it has a ratio
    names = {figure.name for figure in figures}
    expected = {
        "transitions, 1 connection",
        "transitions, service overhead per transaction",
        "transitions, 2 processes, disjoint rows",
        "transitions, 2 processes, 10 hot rows",
        "machine, per transition",
        "scan overdue, first run",
        "scan overdue, repeat",
        "scan overdue, repeat vs query alone",
        "scan overdue, large / small table",
        "dispatch, alerts marked sent",
        "dispatch, Slack messages",
        "dispatch, emails",
        "dispatch, SMTP connections",
        "worker peak RSS, scan of the large table",
        "api writes through HTTP",
        "api writes, least FastAPI app reading the token",
        "api writes, HTTP ratio over the least app's",
        "api writes, machine CPU per write",
        "api writes, CPU HTTP adds per write",
        "alert latency p99",
        "alert latency median",
        "alert latency max",
        "worker and beat idle CPU",
        "cli start, --version",
        "cli start, --help",
        "cli start, followup show",
        "cli start, least program for followup show",
    }
    expected |= {f"{name}, p99" for name in API_READS}
    expected |= {f"{name}, p95" for name in CONSOLE_PAGES}
    expected |= {f"dashboard {kind} {name}" for name in FILTERS for kind in ("list", "count")}
    assert expected <= names
    for figure in figures:
        assert figure.samples, figure.name
        assert figure.goal is None or figure.passed is not None, figure.name
    # And the writes' goals are computed from the figures measured in the same run
    by_name = {figure.name: figure for figure in figures}
    product, least = by_name["api writes through HTTP"], by_name[http.LEAST]
    assert product.ratio and least.ratio
    assert by_name[http.AGAINST_LEAST].samples == [pytest.approx(product.ratio / least.ratio)]
    cpu = by_name[http.CPU]
    added = [a - b for a, b in zip(cpu.samples, cpu.baseline, strict=True)]
    assert by_name[http.CPU_ADDED].samples == pytest.approx(added)
    # And the table and the JSON carry them
    assert "scan overdue, first run" in text_table(figures)
    write_json(tmp_path / "results.json", figures, {"runs": 1})
    document = json.loads((tmp_path / "results.json").read_text())
    assert len(document["figures"]) == len(figures)
    assert document["machine"]["nproc"]
