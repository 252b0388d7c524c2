"""Health checks for the worker side, for compose and orchestrators.

`python -m workers.health beat` exits 0 while some beat holds the redbeat lock (its
lock key exists with time to live: beat renews it every loop), 1 otherwise. A
standby beat is healthy while the active one is: the schedule is driven. The worker's
own check is Celery's: `celery -A workers inspect ping -d celery@$HOSTNAME`.
"""

from __future__ import annotations

import sys

from celery import Celery
from redbeat.schedulers import ensure_conf, get_redis
from redis.exceptions import RedisError


def beat_lock_ttl(app: Celery) -> float | None:
    """Seconds the beat lock has left; None when no beat holds it."""
    key = ensure_conf(app).lock_key
    milliseconds = get_redis(app).pttl(key)
    return None if milliseconds is None or milliseconds < 0 else milliseconds / 1000


def main(argv: list[str]) -> int:
    if argv != ["beat"]:
        print("usage: python -m workers.health beat", file=sys.stderr)
        return 2
    from config.celery_app import app

    try:
        ttl = beat_lock_ttl(app)
    except RedisError as exc:
        print(f"unhealthy: Redis unreachable: {type(exc).__name__}", file=sys.stderr)
        return 1
    if ttl is None:
        print("unhealthy: no beat holds the redbeat lock", file=sys.stderr)
        return 1
    print(f"healthy: the beat lock is held for {ttl:.0f} s more")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
