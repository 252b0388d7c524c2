"""Waiting for something that happens in another thread or process.

Waits poll with time.sleep instead of a timed lock or Condition wait: under libfaketime
(`faketime '+365 days' scripts/test`) Python's timed lock waits get a deadline on the
faked clock that the kernel reads on the real one, and hang for a year.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> float:
    """Poll `check` until it holds and return the seconds it took; fail saying `what`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout} s"
        time.sleep(every)
    return time.monotonic() - started


def pause(seconds: float, stop: threading.Event | None = None) -> None:
    """Sleep `seconds`, or less if `stop` gets set meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        time.sleep(min(0.02, max(deadline - time.monotonic(), 0)))


class Recorder(Generic[T]):
    """A list filled by server threads that a test can read and wait on, thread-safely."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._lock = threading.Lock()

    def add(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def all(self) -> list[T]:
        with self._lock:
            return list(self._items)

    def wait_for(self, count: int, timeout: float) -> list[T]:
        """At least `count` items, waiting up to `timeout` seconds, else AssertionError."""
        try:
            wait_until(lambda: len(self.all()) >= count, timeout, "deliveries", every=0.01)
        except AssertionError:
            got = len(self.all())
            raise AssertionError(
                f"expected {count} deliveries within {timeout} s, got {got}"
            ) from None
        return self.all()
