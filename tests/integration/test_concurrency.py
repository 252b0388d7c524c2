"""Concurrency: four processes work the same 200 follow-ups on PostgreSQL at once.

Each process (spawned, with its own engine) applies random operations, valid and invalid,
for a bounded time and records every one: accepted, refused with its error class, and the
lost races the Workflow retried. Afterwards the history must hold every accepted operation
exactly once and no refused one, every refusal must be a typed error of the expected kind,
the contract invariants and `audit.verify` must hold, and no process may hang.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from ied_workflow.db import engines, migrate
from ied_workflow.db import tables as t
from ied_workflow.workflow import Workflow
from tests.support import concurrency_process
from tests.support.contract_invariants import read_all, violations
from tests.support.settings import build_settings
from tests.support.shared_servers import scratch_postgres_database

pytestmark = pytest.mark.postgres

WORKERS = 4
FOLLOW_UPS = 200
FREE_LEADS = 20  # eligible leads with no follow-up yet: concurrent creates race for them
DURATION = 8.0  # seconds of random operations per process
SEED = 20261125
JOIN_TIMEOUT = 120  # a process still running this long after the run is hung
SEEDER = "seed@ied.example"

EVENT_OF = {
    "create": "created",
    "start": "started",
    "log_contact": "contact_logged",
    "record_outcome": "outcome_recorded",
    "resolve_issue": "issue_resolved",
    "reschedule": "rescheduled",
    "add_note": "note_added",
}
# What a well-formed operation may be refused with (the state decides, races included).
ALLOWED_REFUSALS = {
    "create": {"DuplicateFollowUp"},
    "start": {"TransitionNotAllowed"},
    "log_contact": {"TransitionNotAllowed"},
    "record_outcome": {"TransitionNotAllowed", "GuardFailed"},
    "resolve_issue": {"TransitionNotAllowed", "GuardFailed"},
    "reschedule": {"TransitionNotAllowed"},
    "add_note": set(),
}
BAD_INPUT_REFUSAL = {
    "bad-by": "ValidationError",
    "bad-id": "ValidationError",
    "unknown-id": "NotFound",
    "bad-outcome": "ValidationError",
    "future": "ValidationError",
    "control": "ValidationError",
}


@pytest.fixture(scope="module")
def shared_database() -> Iterator[str]:
    """This test's own PostgreSQL database, migrated."""
    with scratch_postgres_database() as url:
        migrate.upgrade(url)
        yield url


def seed(engine: Engine, url: str) -> tuple[list[int], list[str], list[str]]:
    wf = Workflow(engine, build_settings(url))
    ids, taken = [], []
    for n in range(FOLLOW_UPS):
        lead = f"C-{n:03d}"
        wf.upsert_lead(lead, status="assigned", installer_id=f"I-{n % 7}")
        ids.append(wf.create(lead, by=SEEDER).id)
        taken.append(lead)
    free = [f"F-{n:02d}" for n in range(FREE_LEADS)]
    for lead in free:
        wf.upsert_lead(lead, status="assigned", installer_id="I-1")
    return ids, free, taken[:10]


def run_workers(url: str, ids: list[int], free: list[str], taken: list[str], out: Path) -> None:
    """Start the processes together, wait for them, and fail on any hung or crashed one."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS + 1)
    processes = [
        ctx.Process(
            target=concurrency_process.run,
            args=(url, ids, free, taken, w, SEED, DURATION, str(out / f"w{w}.json"), barrier),
            name=f"ied-concurrency-{w}",
        )
        for w in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=JOIN_TIMEOUT)
        for process in processes:
            process.join(timeout=JOIN_TIMEOUT)
    finally:
        hung = [p.name for p in processes if p.is_alive()]
        for process in processes:
            if process.is_alive():
                process.kill()  # only the processes this test started, by handle
                process.join(timeout=10)
    assert not hung, f"processes still running after {JOIN_TIMEOUT} s: {hung}"
    assert [p.exitcode for p in processes] == [0] * WORKERS


def summarise(ops: list[dict[str, Any]]) -> dict[str, Any]:
    results = Counter(op["result"] for op in ops)
    return {
        "processes": WORKERS,
        "seconds": DURATION,
        "follow_ups": FOLLOW_UPS,
        "tried": len(ops),
        "accepted": results["accepted"],
        "refused": results["refused"],
        "crashed": results["crashed"],
        "conflicts_retried": sum(op["conflicts"] for op in ops),
        "conflicts_escaped": sum(op["error"] == "ConcurrentModification" for op in ops),
        "refused_by_class": dict(Counter(op["error"] for op in ops if op["result"] == "refused")),
        "accepted_by_operation": dict(
            Counter(op["op"] for op in ops if op["result"] == "accepted")
        ),
    }


def wrong_refusals(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Operations refused with an error their input and the contract do not explain."""
    wrong = []
    for op in ops:
        if op["kind"] != "valid":
            right = op["result"] == "refused" and op["error"] == BAD_INPUT_REFUSAL[op["kind"]]
        else:
            allowed = ALLOWED_REFUSALS[op["op"]] | {"ConcurrentModification"}
            right = op["result"] == "accepted" or (
                op["result"] == "refused" and op["error"] in allowed
            )
        if not right:
            wrong.append(op)
    return wrong


def history_problems(ops: list[dict[str, Any]], rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each accepted operation in the history exactly once; no trace of a refused one."""
    events: dict[str, list[tuple[str, int]]] = {}
    for event in rows["events"]:
        events.setdefault(event["actor_email"], []).append((event["type"], event["follow_up_id"]))
    attempts: dict[str, list[tuple[int, str | None]]] = {}
    for attempt in rows["contact_attempts"]:
        attempts.setdefault(attempt["by_email"], []).append(
            (attempt["follow_up_id"], attempt["note"])
        )
    notes = {row["id"]: row["notes"] or "" for row in rows["follow_ups"]}
    all_notes = "\n".join(notes.values())
    problems = []
    for op in ops:
        accepted = op["result"] == "accepted"
        wanted = [(EVENT_OF[op["op"]], op["follow_up_id"])] if accepted else []
        if events.get(op["by"], []) != wanted:
            problems.append(f"{op}: events {events.get(op['by'])}, wanted {wanted}")
        if op["op"] == "log_contact":
            tried = [(op["follow_up_id"], op["token"])] if accepted else []
            if attempts.get(op["by"], []) != tried:
                problems.append(f"{op}: contact rows {attempts.get(op['by'])}, wanted {tried}")
        if op["op"] in ("add_note", "record_outcome") and op["token"]:
            where = notes.get(op["follow_up_id"], "") if accepted else all_notes
            if where.count(op["token"]) != int(accepted):
                problems.append(f"{op}: note token found {where.count(op['token'])} times")
    actors = {op["by"] for op in ops} | {SEEDER}
    problems += [f"event by nobody who tried: {a}" for a in events if a not in actors]
    return problems


def count_problems(ops: list[dict[str, Any]], rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Events per type equal the accepted operations per type (plus the seeding)."""
    accepted = Counter(EVENT_OF[op["op"]] for op in ops if op["result"] == "accepted")
    accepted["created"] += FOLLOW_UPS
    stored = Counter(event["type"] for event in rows["events"])
    problems = [] if stored == accepted else [f"events {dict(stored)} != {dict(accepted)}"]
    follow_ups = len(rows["follow_ups"])
    if follow_ups != accepted["created"]:
        problems.append(f"{follow_ups} follow-ups, {accepted['created']} creates accepted")
    return problems


def test_four_processes_lose_nothing_double_nothing_and_refuse_with_typed_errors(
    shared_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given 200 follow-ups (and 20 free leads) on PostgreSQL
    engine = engines.make_engine(shared_database)
    ids, free, taken = seed(engine, shared_database)
    with engine.connect() as conn:
        leads_before = [tuple(row) for row in conn.execute(select(t.leads).order_by(t.leads.c.id))]

    # When four processes apply random operations to them for a bounded time
    run_workers(shared_database, ids, free, taken, tmp_path)
    ops = [op for w in range(WORKERS) for op in json.loads((tmp_path / f"w{w}.json").read_text())]

    # Then every operation is accounted for, in the history exactly once if accepted
    with engine.connect() as conn:
        rows = read_all(conn)
        broken = violations(conn, rows)
    engine.dispose()
    summary = summarise(ops)
    (tmp_path / "concurrency-summary.json").write_text(json.dumps(summary, indent=2))
    with capsys.disabled():
        print(
            f"\nconcurrency: {WORKERS} processes x {DURATION:g} s on {FOLLOW_UPS} follow-ups: "
            f"tried {summary['tried']}, accepted {summary['accepted']}, "
            f"refused {summary['refused']} {summary['refused_by_class']}, "
            f"conflicts retried {summary['conflicts_retried']} "
            f"(escaped {summary['conflicts_escaped']}); "
            f"summary {tmp_path / 'concurrency-summary.json'}"
        )
    assert summary["tried"] > WORKERS * 50, "the processes barely ran"
    assert summary["accepted"] > 0 and summary["refused"] > 0
    assert wrong_refusals(ops) == []
    assert broken == []
    assert history_problems(ops, rows) == []
    assert count_problems(ops, rows) == []
    assert [tuple(row.values()) for row in rows["leads"]] == leads_before
