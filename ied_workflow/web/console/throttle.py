"""Slowing down password guessing: failed sign-ins make the next try wait longer.

Kept in the process's memory, keyed by (client address, email): a guesser is slowed
without letting a stranger lock a colleague out from another address. With several
worker processes each counts on its own, so the allowance is per worker; the argon2
hash (about 0.1 s a try) bounds the rate in any case.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 3  # typos are human; the fourth failure in a row starts the waits
FIRST_WAIT, LONGEST_WAIT = 2.0, 300.0  # seconds: doubling from 2 s to 5 min
FORGET_AFTER = 3600.0  # a key quiet this long starts afresh
MAX_KEYS = 10_000  # bounded memory under a spray of emails


@dataclass(slots=True)
class _Record:
    failures: int
    last: float
    wait_until: float


class LoginThrottle:
    """Failures per key, and how long that key must wait before its next try."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._keys: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, key: tuple[str, str]) -> float:
        """Seconds before `key` may try again (0: now)."""
        with self._lock:
            found = self._fresh(key)
            return 0.0 if found is None else max(0.0, found.wait_until - self._clock())

    def failed(self, key: tuple[str, str]) -> None:
        now = self._clock()
        with self._lock:
            found = self._fresh(key) or _Record(0, now, now)
            found.failures += 1
            found.last = now
            extra = found.failures - FREE_FAILURES
            if extra > 0:
                found.wait_until = now + min(LONGEST_WAIT, FIRST_WAIT * 2 ** (extra - 1))
            self._keys[key] = found
            self._keys.move_to_end(key)
            while len(self._keys) > MAX_KEYS:
                self._keys.popitem(last=False)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._keys.pop(key, None)

    def _fresh(self, key: tuple[str, str]) -> _Record | None:
        found = self._keys.get(key)
        if found is not None and self._clock() - found.last > FORGET_AFTER:
            del self._keys[key]
            return None
        return found
