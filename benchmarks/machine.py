"""Machine cost: microseconds per transition in the state machine, and memory left behind.

The product side fires start, log_contact and record_outcome through `states.fire`
on the follow-up objects the service uses; the baseline is a transitions Machine
built per follow-up (benchmarks.machine_binding.per_object), measured in the same run.
"""

from __future__ import annotations

import time
import tracemalloc

from benchmarks import machine_binding
from benchmarks.common import Figure, Goal
from ied_workflow import states
from ied_workflow.domain import FollowUp, Outcome, Satisfaction

OUTCOME = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)
TRANSITIONS = 3


def _follow_ups(n: int) -> list[FollowUp]:
    return [machine_binding.new_follow_up(i) for i in range(n)]


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
    micros, per_object, kept, kept_10x = [], [], [], []
    for _ in range(runs):
        micros.append(micros_per_transition(n))
        per_object.append(machine_binding.measure(machine_binding.per_object, n)[0])
        kept.append(bytes_kept_per_follow_up(n))
        kept_10x.append(bytes_kept_per_follow_up(10 * n))
    registered = len(states.MACHINE.models) == models
    return [
        Figure(
            "machine, per transition",
            "us",
            micros,
            per_object,
            Goal("median", "<=", 20.0),
            "baseline: a Machine built per follow-up (machine_binding.per_object)",
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
