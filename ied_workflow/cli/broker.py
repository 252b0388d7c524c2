"""Publishing a task by name from a one-shot command: fail fast when Redis is away.

A worker waits for its broker; a person at a prompt should not. The publish retries
briefly, each connect and read has a timeout, and an unreachable broker becomes one
line (exit 1) with the URL's password masked.
"""

from __future__ import annotations

from typing import Any

from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

from ied_workflow.errors import Unavailable

# About 2 s in all for a broker that refuses connections; a silent one is cut by timeouts.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
SOCKET_TIMEOUTS = {"socket_connect_timeout": 3, "socket_timeout": 5}


def publish(name: str, kwargs: dict[str, Any]) -> str:
    """Send task `name` through the broker; returns its task id, raises Unavailable."""
    from config.celery_app import app

    url = app.conf.broker_url
    try:
        with app.connection_for_write(transport_options=SOCKET_TIMEOUTS) as connection:
            result = app.send_task(
                name, kwargs=kwargs, connection=connection, retry=True, retry_policy=PUBLISH_RETRY
            )
    except (OperationalError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Unavailable(f"broker {maybe_sanitize_url(url)} unreachable: {reason}") from None
    return str(result.id)
