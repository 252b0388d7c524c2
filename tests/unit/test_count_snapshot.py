"""The count snapshot's rules without a database: one recount at a time, the others
answer the previous counts meanwhile; a failed count leaves nothing behind."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ied_workflow.web.snapshot import Counted, CountSnapshots
from tests.support.settings import build_settings

T = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
STALE = T + timedelta(seconds=10)
GUARD = 10  # seconds a test waits for its other thread before giving up (no assertion on it)


def never() -> dict[str, int]:
    pytest.fail("counted although a snapshot should have answered")


def test_while_one_thread_counts_again_the_others_answer_the_previous_counts() -> None:
    # Given a snapshot gone stale, and a thread counting again (held inside its count)
    snapshots = CountSnapshots(5)
    first = snapshots.get("dashboard", T, lambda: {"n": 1})
    counting, release = threading.Event(), threading.Event()

    def slow_count() -> dict[str, int]:
        counting.set()
        release.wait(GUARD)
        return {"n": 2}

    recounted: list[Counted] = []
    worker = threading.Thread(
        target=lambda: recounted.append(snapshots.get("dashboard", STALE, slow_count))
    )
    worker.start()
    assert counting.wait(GUARD)
    # When another request asks meanwhile
    meanwhile = snapshots.get("dashboard", STALE, never)
    release.set()
    worker.join(GUARD)
    # Then it got the previous counts at once, and the next one gets the new counts
    assert meanwhile is first
    assert recounted[0] == Counted(STALE, {"n": 2})
    assert snapshots.get("dashboard", STALE, never) is recounted[0]


def test_a_count_that_failed_leaves_the_next_request_to_count() -> None:
    snapshots = CountSnapshots(5)

    def broken() -> dict[str, int]:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        snapshots.get("dashboard", T, broken)
    assert snapshots.get("dashboard", T, lambda: {"n": 1}) == Counted(T, {"n": 1})


def test_each_key_has_its_own_snapshot() -> None:
    snapshots = CountSnapshots(5)
    berlin = snapshots.get(("dashboard", "Europe/Berlin"), T, lambda: {"n": 1})
    utc = snapshots.get(("dashboard", "UTC"), T, lambda: {"n": 2})
    assert (berlin.counts, utc.counts) == ({"n": 1}, {"n": 2})
    assert snapshots.get(("dashboard", "Europe/Berlin"), T, never) is berlin


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValidationError, match="dashboard_counts_seconds"):
        build_settings("sqlite://", dashboard_counts_seconds=-1)
    assert build_settings("sqlite://", dashboard_counts_seconds=0).dashboard_counts_seconds == 0
