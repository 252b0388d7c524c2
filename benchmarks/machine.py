"""Machine cost: microseconds per transition in the state machine, and memory left behind.

Fires start, log_contact and record_outcome through `states.fire` on the follow-up
objects the service uses, with no database: the time per transition, and the memory
still held after many follow-ups went through the one shared machine.
"""

from __future__ import annotations

import time
import tracemalloc

from benchmarks.common import NOW, Figure, Goal
from ied_workflow import states
from ied_workflow.domain import FollowUp, Outcome, Satisfaction

OUTCOME = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)
TRANSITIONS = 3


def new_follow_up(i: int) -> FollowUp:
    """A pending follow-up, as the service loads one (no database)."""
    return FollowUp(
        id=i,
        lead_id=f"L-{i}",
        installer_id="I",
        status="pending",
        due_at=NOW,
        created_at=NOW,
        created_by_email="a@b.example",
        updated_at=NOW,
        version=1,
    )


def _follow_ups(n: int) -> list[FollowUp]:
    return [new_follow_up(i) for i in range(n)]


def _cycle(follow_ups: list[FollowUp]) -> None:
    for follow_up in follow_ups:
        states.fire(follow_up, "start")
        follow_up.reached_customer = True
        states.fire(follow_up, "log_contact")
        states.fire(follow_up, "record_outcome", outcome=OUTCOME)


def micros_per_transition(n: int) -> float:
    follow_ups = _follow_ups(n)
    started = time.perf_counter()
    _cycle(follow_ups)
    return (time.perf_counter() - started) / (TRANSITIONS * n) * 1e6


def bytes_kept_per_follow_up(n: int) -> float:
    """Bytes still allocated after `n` follow-ups went through the machine (0: constant)."""
    follow_ups = _follow_ups(n)
    _cycle(_follow_ups(10))  # first-use caches are not per-object growth
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    _cycle(follow_ups)
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return max(0.0, kept) / n


def measure(runs: int, n: int) -> list[Figure]:
    models = len(states.MACHINE.models)
    micros, kept, kept_10x = [], [], []
    for _ in range(runs):
        micros.append(micros_per_transition(n))
        kept.append(bytes_kept_per_follow_up(n))
        kept_10x.append(bytes_kept_per_follow_up(10 * n))
    registered = len(states.MACHINE.models) == models
    return [
        Figure(
            "machine, per transition",
            "us",
            micros,
            goal=Goal("median", "<=", 20.0),
            note=f"start, log_contact, record_outcome through states.fire on {n} follow-ups",
        ),
        Figure(
            f"machine, memory kept per follow-up after {10 * n}",
            "bytes",
            kept_10x,
            kept,
            Goal("median", "<=", 8.0),
            f"baseline: the same after {n}; constant memory means ~0 at both",
            {"no model registered on the shared machine": registered},
        ),
    ]
