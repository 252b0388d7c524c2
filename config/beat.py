"""A redbeat scheduler that rides out a Redis outage instead of dying.

redbeat extends its lock with a redis-py Lock bound to the raw client, outside its
own retry wrapper, so a lost connection ends beat; and a Redis that restarts empty
has lost both the lock and the schedule. Here beat waits, takes the lock again and
re-installs the schedule. The overdue scan is level-triggered, so ticks missed in
the outage are caught up by the first one after it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis
from celery.utils.log import get_logger
from redbeat import RedBeatScheduler
from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, get_redis

logger = get_logger("celery.beat")


class ResilientRedBeatScheduler(RedBeatScheduler):  # type: ignore[misc]
    """RedBeatScheduler that survives Redis restarts and lost locks."""

    lock: Any  # redbeat sets it in its own __init__

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            if self.lock is None and not self._take_lock():
                return float(self.max_interval)  # a standby beat, or Redis still down
            return float(super().tick(*args, **kwargs))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            logger.warning("beat: Redis unavailable (%s); trying again", type(exc).__name__)
            return float(self.max_interval)
        except redis.exceptions.LockError:  # the lock expired, or Redis came back empty
            logger.warning("beat: lost the beat lock; taking it again")
            self.lock = None
            return float(self.max_interval)

    def _take_lock(self) -> bool:
        client = get_redis(self.app)
        lock = client.lock(self.lock_key, timeout=self.lock_timeout, sleep=self.max_interval)
        lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)
        if not lock.acquire(blocking=False):
            return False
        self.lock = lock
        logger.info("beat: acquired the beat lock")
        self.setup_schedule()  # a Redis that restarted empty has no schedule entries
        return True

    def close(self) -> None:
        with contextlib.suppress(redis.exceptions.RedisError):  # Redis away: nothing to release
            super().close()
