"""How to bind the transitions machine to follow-ups: measured, not guessed.

Compares, per transition (start then log_contact on a fresh follow-up):
  per_object   a new Machine for every follow-up (the transitions README way)
  add_model    one shared Machine, add_model(initial=status) ... remove_model
  shared       one shared Machine, events fired on unregistered objects (our choice)
and the memory each leaves behind after 2,000 follow-ups.

    python -m benchmarks.machine_binding [--runs 5] [--n 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

from transitions import Machine

from ied_workflow import states
from ied_workflow.domain import FollowUp

NOW = datetime(2026, 11, 25, tzinfo=UTC)
SETTINGS = {k: v for k, v in states.MACHINE_SETTINGS.items() if k != "initial"}


class Bindable(FollowUp):
    """A follow-up with a __dict__, so that transitions can attach its methods to it."""


def new_follow_up(i: int, kind: type[FollowUp] = FollowUp) -> FollowUp:
    """A pending follow-up for machine benchmarks (no database)."""
    return kind(
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


def per_object(subject: FollowUp, kept: list[object]) -> None:
    machine = Machine(model=subject, initial=subject.status, **SETTINGS)
    subject.start()  # type: ignore[attr-defined]
    subject.log_contact()  # type: ignore[attr-defined]
    kept.append(machine)  # as an ORM-bound machine would live as long as its object


SHARED_FOR_ADD = Machine(model=None, initial="pending", **SETTINGS)


def add_model(subject: FollowUp, kept: list[object]) -> None:
    SHARED_FOR_ADD.add_model(subject, initial=subject.status)
    subject.start()  # type: ignore[attr-defined]
    subject.log_contact()  # type: ignore[attr-defined]
    SHARED_FOR_ADD.remove_model(subject)


def shared(subject: FollowUp, kept: list[object]) -> None:
    states.fire(subject, "start")
    states.fire(subject, "log_contact")


def measure(bind: Callable[[FollowUp, list[object]], None], n: int) -> tuple[float, float]:
    """Microseconds per transition (untraced), and KiB kept per follow-up (traced run)."""
    kept: list[object] = []
    subjects = [new_follow_up(i, Bindable) for i in range(n)]
    started = time.perf_counter()
    for subject in subjects:
        bind(subject, kept)
    elapsed = time.perf_counter() - started
    kept.clear()
    subjects = [new_follow_up(i, Bindable) for i in range(n)]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for subject in subjects:
        bind(subject, kept)
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return elapsed / (2 * n) * 1e6, grown / n / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    results = {}
    for name, bind in (("per_object", per_object), ("add_model", add_model), ("shared", shared)):
        runs = [measure(bind, args.n) for _ in range(args.runs)]
        micros = [r[0] for r in runs]
        results[name] = {
            "us_per_transition_median": round(statistics.median(micros), 2),
            "us_min": round(min(micros), 2),
            "us_max": round(max(micros), 2),
            "kib_kept_per_follow_up": round(statistics.median(r[1] for r in runs), 3),
        }
    base = results["shared"]["us_per_transition_median"]
    header = ("binding", "us/transition", "min", "max", "KiB kept/obj", "x shared")
    print(f"{header[0]:<12}" + "".join(f"{h:>15}" for h in header[1:]))
    for name, row in results.items():
        print(
            f"{name:<12}{row['us_per_transition_median']:>15}{row['us_min']:>15}{row['us_max']:>15}"
            f"{row['kib_kept_per_follow_up']:>15}{row['us_per_transition_median'] / base:>15.1f}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
