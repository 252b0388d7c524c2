"""The beat healthcheck compose runs: healthy while some beat holds the redbeat lock."""

from __future__ import annotations

import redis

from config.celery_app import make_app
from tests.support.settings import build_settings
from tests.support.shared_servers import REDIS_URL
from workers.health import beat_lock_ttl


def test_beat_is_healthy_only_while_its_lock_is_held(
    redis_server: redis.Redis, namespace: str
) -> None:
    settings = build_settings("sqlite://", redis_url=f"{REDIS_URL}/0", redbeat_key_prefix=namespace)
    app = make_app(settings)
    lock_key = f"{namespace}:lock"
    assert beat_lock_ttl(app) is None  # no beat: unhealthy

    redis_server.set(lock_key, "a-beat-token", px=60_000)  # what a running beat keeps renewed
    ttl = beat_lock_ttl(app)
    assert ttl is not None and 0 < ttl <= 60

    redis_server.delete(lock_key)  # the beat stopped renewing it and it expired
    assert beat_lock_ttl(app) is None
