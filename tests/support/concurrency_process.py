"""One process of the concurrency test (tests/integration/test_concurrency.py): random
operations on shared follow-ups, all recorded.

Started with the `spawn` method, so it imports only what it needs and builds its own
engine. Every operation names a unique actor email (and, where it carries text, a unique
token), so the parent can find each accepted operation in the history exactly once.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event

from config.settings import Settings
from ied_workflow.db.engines import make_engine
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.errors import ConcurrentModification, IedWorkflowError
from ied_workflow.workflow import Workflow

R = TypeVar("R")

# A statement stuck on a lock fails instead of hanging the test.
PG_TIMEOUTS = "-c lock_timeout=5000 -c statement_timeout=15000"
CONFLICT_STATES = ("40001", "40P01")  # serialisation failure, deadlock
UNKNOWN_ID = 10**12
WEIGHTS = {  # outcomes are rarer than contacts, so rows stay open long enough to contend
    "log_contact": 30,
    "add_note": 15,
    "start": 10,
    "record_outcome": 10,
    "resolve_issue": 6,
    "reschedule": 8,
    "create": 5,
    "bad_input": 6,
}


@dataclass
class Op:
    """One operation a worker tried, and what came of it."""

    op: str
    kind: str  # "valid", or the bad input it carries: "bad-by", "bad-id", "unknown-id", ...
    by: str
    follow_up_id: int | None
    token: str | None = None
    lead_id: str | None = None
    result: str = ""  # accepted | refused | crashed
    error: str | None = None
    message: str | None = None
    conflicts: int = 0
    created_id: int | None = None


class CountingWorkflow(Workflow):
    """The Workflow, counting every lost race it retries (optimistic lock, deadlock)."""

    conflicts = 0
    clock_offset = timedelta(0)  # the database's clock minus this host's

    def database_now(self) -> datetime:
        """The database's clock without a round trip: the product decides by that clock."""
        return datetime.now(UTC) + self.clock_offset

    def run(self, work: Callable[[UnitOfWork], R], *, now: datetime | None = None) -> R:
        def counted(uow: UnitOfWork) -> R:
            try:
                return work(uow)
            except ConcurrentModification:
                self.conflicts += 1
                raise

        return super().run(counted, now=now)


def run(
    url: str,
    follow_up_ids: list[int],
    free_leads: list[str],
    taken_leads: list[str],
    worker: int,
    seed: int,
    duration: float,
    out: str,
    barrier: Any,
) -> None:
    """Apply random operations for `duration` seconds, then write them all to `out`."""
    engine = make_engine(url, connect_args={"options": PG_TIMEOUTS}, pool_size=2)
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    wf = CountingWorkflow(engine, settings)
    _count_database_conflicts(engine, wf)
    wf.clock_offset = wf.now() - datetime.now(UTC)
    rng = random.Random(seed * 1000 + worker)
    ops: list[Op] = []
    barrier.wait(timeout=120)
    deadline = time.monotonic() + duration
    try:
        while time.monotonic() < deadline:
            ops.append(_one(wf, rng, worker, len(ops), follow_up_ids, free_leads, taken_leads))
    finally:
        Path(out).write_text(json.dumps([asdict(op) for op in ops]))
        engine.dispose()


def _count_database_conflicts(engine: Any, wf: CountingWorkflow) -> None:
    @event.listens_for(engine, "handle_error")
    def _seen(context: Any) -> None:
        if getattr(context.original_exception, "sqlstate", None) in CONFLICT_STATES:
            wf.conflicts += 1


def _one(
    wf: CountingWorkflow,
    rng: random.Random,
    worker: int,
    n: int,
    ids: list[int],
    free_leads: list[str],
    taken_leads: list[str],
) -> Op:
    by = f"w{worker}.n{n}@ied.example"
    hot = ids[:20]  # a fifth of the traffic on ten percent of the rows: real contention
    target = rng.choice(hot if rng.random() < 0.2 else ids)
    name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if name == "create":
        lead = rng.choice(free_leads if rng.random() < 0.7 else taken_leads)
        op = Op("create", "valid", by, None, lead_id=lead)
        return _apply(wf, op, lambda: wf.create(lead, by=by))
    if name == "bad_input":
        return _bad(wf, rng, worker, n, by, target)
    op = Op(name, "valid", by, target, token=f"[{name[:1]}:{worker}:{n}]")
    return _apply(wf, op, _action(wf, rng, op))


def _action(wf: CountingWorkflow, rng: random.Random, op: Op) -> Callable[[], Any]:
    fid, by, token = op.follow_up_id, op.by, op.token
    assert fid is not None and token is not None
    now = wf.database_now()
    if op.op == "log_contact":
        result = rng.choice(["attempted", "left_message", "no_response"])
        result = "reached_customer" if rng.random() < 0.4 else result
        at = now - timedelta(minutes=rng.randint(0, 600))
        return lambda: wf.log_contact(fid, by=by, outcome=result, at=at, note=token)
    if op.op == "add_note":
        return lambda: wf.add_note(fid, text=token, by=by)
    if op.op == "start":
        return lambda: wf.start(fid, by=by)
    if op.op == "record_outcome":
        outcome = _outcome(rng, token)
        return lambda: wf.record_outcome(fid, by=by, outcome=outcome)
    if op.op == "resolve_issue":
        return lambda: wf.resolve_issue(fid, by=by)
    due = now + timedelta(hours=rng.randint(-48, 240))
    return lambda: wf.reschedule(fid, due_at=due, by=by)


def _outcome(rng: random.Random, token: str) -> Outcome:
    shape = rng.choice(["satisfied", "open_issue", "resolved_issue", "undeclared"])
    if shape == "satisfied":
        return Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED, notes=token)
    if shape == "undeclared":  # refused by a guard: the outcome must say has-issue
        return Outcome(has_issue=None, satisfaction=Satisfaction.MIXED, notes=token)
    return Outcome(
        has_issue=True,
        issue_summary=f"issue {token}",
        issue_resolved=shape == "resolved_issue",
        satisfaction=Satisfaction.UNSATISFIED,
        notes=token,
    )


def _bad(wf: CountingWorkflow, rng: random.Random, worker: int, n: int, by: str, fid: int) -> Op:
    """Operations that must be refused for their input alone."""
    kind = rng.choice(["bad-by", "bad-id", "unknown-id", "bad-outcome", "future", "control"])
    token = f"[x:{worker}:{n}]"
    if kind == "bad-by":
        op = Op("log_contact", kind, by, fid, token)
        return _apply(wf, op, lambda: wf.log_contact(fid, by="not an email", outcome="attempted"))
    if kind in ("bad-id", "unknown-id"):
        bad = rng.choice([0, -3]) if kind == "bad-id" else UNKNOWN_ID
        op = Op("add_note", kind, by, bad, token)
        return _apply(wf, op, lambda: wf.add_note(bad, text=token, by=by))
    if kind == "bad-outcome":
        op = Op("log_contact", kind, by, fid, token)
        return _apply(wf, op, lambda: wf.log_contact(fid, by=by, outcome="reached", note=token))
    if kind == "future":
        at = wf.database_now() + timedelta(days=1)
        op = Op("log_contact", kind, by, fid, token)
        return _apply(
            wf, op, lambda: wf.log_contact(fid, by=by, outcome="attempted", at=at, note=token)
        )
    op = Op("add_note", kind, by, fid, token)
    return _apply(wf, op, lambda: wf.add_note(fid, text=token + "\x1b[2J", by=by))


def _apply(wf: CountingWorkflow, op: Op, action: Callable[[], Any]) -> Op:
    before = wf.conflicts
    try:
        result = action()
    except IedWorkflowError as error:
        op.result, op.error, op.message = "refused", type(error).__name__, str(error)
    except Exception as error:  # anything untyped is what the test looks for
        op.result, op.error, op.message = "crashed", type(error).__name__, repr(error)[:500]
    else:
        op.result = "accepted"
        if op.op == "create":
            op.created_id = result.id
            op.follow_up_id = result.id
    op.conflicts = wf.conflicts - before
    return op
