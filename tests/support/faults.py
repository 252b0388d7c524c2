"""Helpers for the fault-injection tests: reading the outcome and recording the figures.

Reads go through `Workflow.run`, as the product's own do, so that a read right
after a PostgreSQL restart retries on a fresh connection instead of failing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ied_workflow.db import tables as t
from ied_workflow.follow_ups import history
from ied_workflow.workflow import Workflow
from tests.support.processes import ROOT

FIGURES_DIR = ROOT / "bench-results" / "reliability"
RECORDED: dict[str, dict[str, object]] = {}  # printed again in the terminal summary


def follow_up_rows(workflow: Workflow) -> list[tuple[Any, ...]]:
    """Every follow-up row, to show a scan changed none of them."""
    query = select(t.follow_ups).order_by(t.follow_ups.c.id)
    return workflow.run(lambda uow: [tuple(row) for row in uow.conn.execute(query)])


def audit_mismatches(workflow: Workflow) -> list[history.Mismatch]:
    return workflow.audit()


def retried_then_succeeded(log: str, task: str) -> dict[str, int]:
    """Per task id of `task`: how many retries the worker logged before it succeeded."""
    retries: Counter[str] = Counter()
    finished = set()
    for line in log.splitlines():
        if f"Task {task}[" not in line:
            continue
        task_id = line.split(f"Task {task}[", 1)[1].split("]", 1)[0]
        if "] retry: Retry in" in line:
            retries[task_id] += 1
        elif "] succeeded in" in line:
            finished.add(task_id)
    return {task_id: count for task_id, count in retries.items() if task_id in finished}


def record_figures(test: str, figures: Mapping[str, object]) -> Path:
    """Write what a test measured to bench-results/reliability/<test>.json, and print it."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FIGURES_DIR / f"{test}.json"
    path.write_text(json.dumps({"test": test, **figures}, indent=2, default=str) + "\n")
    print(f"reliability figures {test}: {json.dumps(figures, default=str)}")
    RECORDED[test] = dict(figures)
    return path
