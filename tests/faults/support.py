"""Helpers for the fault-injection tests: waiting, making follow-ups, reading the outcome.

Reads go through `Workflow.transaction`, as the product's own do, so that a read right
after a PostgreSQL restart retries on a fresh connection instead of failing.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from ied_workflow import audit, service
from ied_workflow import tables as t
from ied_workflow.domain import FollowUp
from ied_workflow.workflow import Workflow

ROOT = Path(__file__).resolve().parents[2]
FIGURES_DIR = ROOT / "bench-results" / "reliability"
OPS = "ops@ied.example"
RECORDED: dict[str, dict[str, object]] = {}  # printed again in the terminal summary


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> float:
    """Poll `check` until it holds and return the seconds it took; fail after `timeout`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout} s"
        time.sleep(every)
    return time.monotonic() - started


def overdue_follow_ups(
    workflow: Workflow, count: int, due_at: datetime, *, first: int = 1
) -> list[FollowUp]:
    """`count` follow-ups on fresh leads, due at `due_at`, made in one transaction."""

    def make(conn: Any) -> list[FollowUp]:
        made = []
        for number in range(first, first + count):
            lead = f"L-{number}"
            service.upsert_lead(conn, lead, status="assigned", installer_id=f"INST-{number}")
            made.append(service.create(conn, lead, by=OPS, due_at=due_at))
        return made

    return workflow.transaction(make)


def outbox_rows(workflow: Workflow) -> list[dict[str, Any]]:
    """Every outbox row, oldest first (read like the product reads: retried if the
    connection was lost, as after a PostgreSQL restart)."""
    n = t.notifications
    query = select(n).order_by(n.c.id)
    return workflow.transaction(lambda c: [dict(row._mapping) for row in c.execute(query)])


def follow_up_rows(workflow: Workflow) -> list[tuple[Any, ...]]:
    """Every follow-up row, to show a scan changed none of them."""
    query = select(t.follow_ups).order_by(t.follow_ups.c.id)
    return workflow.transaction(lambda c: [tuple(row) for row in c.execute(query)])


def audit_mismatches(workflow: Workflow) -> list[audit.Mismatch]:
    return workflow.transaction(lambda c: list(audit.verify(c)))


def empty_tables(engine: Engine) -> None:
    names = ", ".join(table.name for table in t.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))  # fixed table names


def duplicates(ids: Iterable[int]) -> int:
    """Mentions beyond the first, summed over ids."""
    return sum(seen - 1 for seen in Counter(ids).values())


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


def slack_ids(posts: Sequence[Any]) -> list[int]:
    """Every follow-up id listed, over the posts received (a repeat is a duplicate)."""
    return [follow_up for post in posts for follow_up in post.follow_up_ids]
