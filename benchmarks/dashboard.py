"""Every `followup list` filter and its count on the large table, with its query plan.

The product side is `Workflow.find` (limit 100, as the CLI lists) and `Workflow.count`.
The statement each one sends is captured and replayed with raw psycopg as the baseline,
and EXPLAIN (FORMAT JSON) of it must show no sequential scan of follow_ups.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from sqlalchemy import event

from benchmarks.common import NOW, Figure, Goal, bench_settings, libpq_url
from ied_workflow.cli.followup import COUNT_CAP
from ied_workflow.db import engines
from ied_workflow.domain import Status
from ied_workflow.follow_ups.queries import DASHBOARD, Filter
from ied_workflow.workflow import Workflow

LIMIT_MS = 50.0
FILTERS: dict[str, Filter] = {
    "--status pending": DASHBOARD["pending"],
    "--status in_progress": DASHBOARD["in_progress"],
    "--status completed": DASHBOARD["completed"],
    "--status closed_with_issue": DASHBOARD["closed_with_issue"],
    "--due": DASHBOARD["due_today"],
    "--overdue": DASHBOARD["overdue"],
    "--has-issue": DASHBOARD["has_issue"],
    "--open-issue": DASHBOARD["open_issue"],
    "--installer I-7": Filter(installer_id="I-7"),
    "--overdue --installer I-7": Filter(overdue=True, installer_id="I-7"),
    "--status pending --status in_progress": Filter(statuses=(Status.PENDING, Status.IN_PROGRESS)),
}


def _captured(workflow: Workflow, call: Callable[[], object]) -> tuple[str, Any]:
    """The last SQL statement and parameters `call` sent through the engine."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(workflow.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(workflow.engine, "before_cursor_execute", capture)
    return seen[-1]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def plan_summary(pg: psycopg.Connection[Any], statement: str, parameters: Any) -> tuple[bool, str]:
    """(uses no Seq Scan on follow_ups, "Node Type on index" list) from EXPLAIN (FORMAT JSON)."""
    row = pg.execute("EXPLAIN (FORMAT JSON) " + statement, parameters).fetchone()
    assert row is not None
    nodes = list(_nodes(row[0][0]["Plan"]))
    seq = any(
        n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "follow_ups" for n in nodes
    )
    scans = [
        f"{n['Node Type']} {n.get('Index Name') or n.get('Relation Name', '')}".strip()
        for n in nodes
        if "Scan" in n["Node Type"]
    ]
    return not seq, ", ".join(scans)


def _ms(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def measure(url: str, runs: int) -> list[Figure]:
    """One figure per list and per count: product median ms against the replayed SQL."""
    workflow = Workflow(engines.make_engine(url), bench_settings(url))
    pg = psycopg.connect(libpq_url(url), autocommit=True)
    figures = []
    try:
        for name, where in FILTERS.items():
            calls: dict[str, Callable[[], object]] = {
                "list": lambda where=where: workflow.find(where, NOW, limit=100),  # type: ignore[misc]
                # As the CLI counts: exact up to COUNT_CAP, then "10,000+".
                "count": lambda where=where: workflow.count(where, NOW, cap=COUNT_CAP),  # type: ignore[misc]
            }
            for kind, call in calls.items():
                figures.append(_figure(f"{kind} {name}", workflow, pg, call, runs))
    finally:
        pg.close()
        workflow.engine.dispose()
    return figures


def _figure(
    name: str,
    workflow: Workflow,
    pg: psycopg.Connection[Any],
    call: Callable[[], object],
    runs: int,
) -> Figure:
    statement, parameters = _captured(workflow, call)
    indexed, scans = plan_summary(pg, statement, parameters)
    product, raw = [], []
    for _ in range(runs):
        product.append(_ms(call))
        raw.append(_ms(lambda: pg.execute(statement, parameters).fetchall()))
    return Figure(
        f"dashboard {name}",
        "ms",
        product,
        raw,
        Goal("median", "<", LIMIT_MS),
        f"plan: {scans}",
        {"no Seq Scan on follow_ups": indexed},
    )
