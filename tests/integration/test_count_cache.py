"""The count snapshot's rules, on an empty SQLite database and a fixed clock: fresh
counts answer; up to a window past, the previous counts answer while one thread counts
again in the background; older ones are counted before answering; a failed count leaves
nothing behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Connection

from ied_workflow.db import engines
from ied_workflow.db.clock import FixedClock
from ied_workflow.db.unit_of_work import Database
from ied_workflow.web.count_cache import MAX_KEYS, CountCache, Counted, Counter
from tests.support.settings import build_settings

T = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
WINDOW = 5
GUARD = 10  # seconds a test waits for its other thread before giving up (no assertion on it)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T)


@pytest.fixture
def snapshots(clock: FixedClock, tmp_path: Path) -> Iterator[CountCache]:
    engine = engines.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # recounts use other threads
    yield CountCache(WINDOW, Database(engine, clock))
    engine.dispose()


def counting(n: int) -> Counter:
    return lambda conn, at: {"n": n}


class Held:
    """A count that signals it started, then holds until released."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, conn: Connection, at: datetime) -> dict[str, int]:
        self.started.set()
        self.release.wait(GUARD)
        return self.counts


def never(conn: Connection, at: datetime) -> dict[str, int]:
    # AssertionError, not pytest.fail: on a recount thread it is logged, and the new
    # counts a test waits for never land
    raise AssertionError("counted although a snapshot should have answered")


def settled(snapshots: CountCache, key: str, now: datetime, old: Counted) -> Counted:
    deadline = time.monotonic() + GUARD
    while (latest := snapshots.get(key, now, never)) is old and time.monotonic() < deadline:
        time.sleep(0.01)
    return latest


def test_a_snapshot_younger_than_the_window_is_the_answer(snapshots: CountCache) -> None:
    first = snapshots.get("dashboard", T, counting(1))
    assert first == Counted(T, {"n": 1})
    assert snapshots.get("dashboard", T + timedelta(seconds=WINDOW - 0.001), never) is first
    assert snapshots.get("dashboard", T - timedelta(seconds=1), never) is first  # began earlier


def test_the_first_count_is_waited_for_and_made_once(snapshots: CountCache) -> None:
    # Given a process's first count, held inside
    slow = Held({"n": 1})

    counted: list[Counted] = []
    first = threading.Thread(target=lambda: counted.append(snapshots.get("dashboard", T, slow)))
    first.start()
    assert slow.started.wait(GUARD)
    # When another request asks meanwhile (nothing to answer yet)
    waiter = threading.Thread(target=lambda: counted.append(snapshots.get("dashboard", T, never)))
    waiter.start()
    time.sleep(0.2)  # not join(timeout): a timed lock wait never ends under faketime
    assert waiter.is_alive()  # it waits for the count
    slow.release.set()
    first.join(GUARD)
    waiter.join(GUARD)
    # Then both answer the one count
    assert counted == [Counted(T, {"n": 1})] * 2 and counted[0] is counted[1]


def test_a_window_past_the_previous_counts_answer_while_one_thread_counts_again(
    snapshots: CountCache, clock: FixedClock
) -> None:
    # Given a snapshot a window old, and a recount that holds until released
    first = snapshots.get("dashboard", T, counting(1))
    stale = T + timedelta(seconds=WINDOW)
    clock.set(stale)
    slow = Held({"n": 2})

    # When a request asks, and another while the recount runs
    answered = snapshots.get("dashboard", stale, slow)
    assert slow.started.wait(GUARD)
    meanwhile = snapshots.get("dashboard", stale, never)  # no second recount
    slow.release.set()
    # Then both got the previous counts at once, and the new ones land, counted at `stale`
    assert answered is first and meanwhile is first
    assert settled(snapshots, "dashboard", stale, first) == Counted(stale, {"n": 2})


def test_counts_two_windows_old_are_taken_before_answering(
    snapshots: CountCache, clock: FixedClock
) -> None:
    snapshots.get("dashboard", T, counting(1))
    later = T + timedelta(seconds=2 * WINDOW)
    clock.set(later)
    assert snapshots.get("dashboard", later, counting(2)) == Counted(later, {"n": 2})


def test_while_one_request_counts_old_counts_again_the_others_answer_them(
    snapshots: CountCache, clock: FixedClock
) -> None:
    # Given counts two windows old, and a request counting them again (held inside)
    first = snapshots.get("dashboard", T, counting(1))
    later = T + timedelta(seconds=2 * WINDOW)
    clock.set(later)
    slow = Held({"n": 2})

    recounted: list[Counted] = []
    worker = threading.Thread(
        target=lambda: recounted.append(snapshots.get("dashboard", later, slow))
    )
    worker.start()
    assert slow.started.wait(GUARD)
    # When another request asks meanwhile
    meanwhile = snapshots.get("dashboard", later, never)
    slow.release.set()
    worker.join(GUARD)
    # Then it got the previous counts at once; the counting request got the new ones
    assert meanwhile is first
    assert recounted == [Counted(later, {"n": 2})]


def test_a_snapshot_from_the_future_is_counted_again(
    snapshots: CountCache, clock: FixedClock
) -> None:
    snapshots.get("dashboard", T, counting(1))
    earlier = T - timedelta(minutes=1)  # the clock went back
    clock.set(earlier)
    assert snapshots.get("dashboard", earlier, counting(2)) == Counted(earlier, {"n": 2})


def test_a_count_that_failed_leaves_the_next_request_to_count(snapshots: CountCache) -> None:
    def broken(conn: Connection, at: datetime) -> dict[str, int]:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        snapshots.get("dashboard", T, broken)
    assert snapshots.get("dashboard", T, counting(1)) == Counted(T, {"n": 1})


def test_a_failed_recount_keeps_the_previous_counts_and_a_later_request_tries_again(
    snapshots: CountCache, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = snapshots.get("dashboard", T, counting(1))
    stale = T + timedelta(seconds=WINDOW)
    clock.set(stale)
    failed = threading.Event()

    def broken(conn: Connection, at: datetime) -> dict[str, int]:
        failed.set()
        raise RuntimeError("database gone")

    assert snapshots.get("dashboard", stale, broken) is first
    assert failed.wait(GUARD)
    # The previous counts stay, and a later request starts a recount that lands
    deadline = time.monotonic() + GUARD
    while (latest := snapshots.get("dashboard", stale, counting(2))) is first:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert latest == Counted(stale, {"n": 2})
    assert "counting again failed (dashboard)" in caplog.text


def test_each_key_has_its_own_snapshot(snapshots: CountCache) -> None:
    berlin = snapshots.get(("dashboard", "Europe/Berlin"), T, counting(1))
    utc = snapshots.get(("dashboard", "UTC"), T, counting(2))
    assert (berlin.counts, utc.counts) == ({"n": 1}, {"n": 2})
    assert snapshots.get(("dashboard", "Europe/Berlin"), T, never) is berlin


def test_past_max_keys_the_oldest_snapshot_makes_room(snapshots: CountCache) -> None:
    # Given as many snapshots as a process keeps (a list total per filter, say)
    first = snapshots.get(("list", 0), T, counting(0))
    for n in range(1, MAX_KEYS):
        snapshots.get(("list", n), T, counting(n))
    assert snapshots.get(("list", 0), T, never) is first
    # When one more filter is counted
    snapshots.get(("list", MAX_KEYS), T, counting(MAX_KEYS))
    # Then the oldest is counted again when asked, the newest answer as held
    assert snapshots.get(("list", 0), T, counting(-1)).counts == {"n": -1}
    assert snapshots.get(("list", MAX_KEYS), T, never).counts == {"n": MAX_KEYS}
    assert snapshots.get(("list", MAX_KEYS - 1), T, never).counts == {"n": MAX_KEYS - 1}


def test_a_window_of_zero_counts_on_every_request(clock: FixedClock) -> None:
    engine = engines.make_engine("sqlite://")
    snapshots = CountCache(0, Database(engine, clock))
    assert snapshots.get("dashboard", T, counting(1)).counts == {"n": 1}
    assert snapshots.get("dashboard", T, counting(2)).counts == {"n": 2}
    engine.dispose()


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValidationError, match="dashboard_counts_seconds"):
        build_settings("sqlite://", dashboard_counts_seconds=-1)
    assert build_settings("sqlite://", dashboard_counts_seconds=0).dashboard_counts_seconds == 0
