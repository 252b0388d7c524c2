"""Waiting for something that happens in another thread or process."""

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


class Recorder(Generic[T]):
    """A list filled by server threads that a test can read and wait on, thread-safely."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def all(self) -> list[T]:
        with self._changed:
            return list(self._items)

    def wait_for(self, count: int, timeout: float) -> list[T]:
        """At least `count` items, waiting up to `timeout` seconds, else AssertionError."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self._items) >= count, timeout)
            items = list(self._items)
        assert arrived, f"expected {count} deliveries within {timeout} s, got {len(items)}"
        return items
