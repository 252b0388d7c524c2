"""`ied-workflow tasks ...`: Celery tasks published by name, failing fast when Redis is away.

A worker waits for its broker; a person at a prompt should not. The publish retries
briefly, each connect and read has a timeout, and an unreachable broker becomes one
line (exit 1) with the URL's password masked.
"""

from __future__ import annotations

from typing import Any

import typer
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

from config.settings import get_settings
from ied_workflow.cli.common import NOW, when
from ied_workflow.cli.output import say
from ied_workflow.errors import Unavailable, ValidationError

app = typer.Typer(help="Celery tasks, sent by name through the broker.", no_args_is_help=True)

TASK_NAMES = (
    "ied.scan_overdue",
    "ied.dispatch_notifications",
    "ied.send_digest",
    "ied.notify_closed_with_issue",
)
# About 2 s in all for a broker that refuses connections; a silent one is cut by timeouts.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
SOCKET_TIMEOUTS = {"socket_connect_timeout": 3, "socket_timeout": 5}


@app.command("send")
def send_task(
    name: str = typer.Argument(..., help=f"One of {', '.join(TASK_NAMES)}.", show_default=False),
    now: str | None = NOW,
) -> None:
    """Enqueue a task by its name through the Redis broker (a worker runs it)."""
    if name not in TASK_NAMES:
        raise ValidationError(f"unknown task {name!r}; known: {', '.join(TASK_NAMES)}")
    get_settings()  # a bad setting is reported before anything reaches the broker
    instant = when(now, "--now")
    takes_now = instant is not None and name != "ied.notify_closed_with_issue"
    kwargs = {"now": instant.isoformat()} if takes_now and instant else {}
    say(f"sent {name} as task {publish(name, kwargs)}")


def publish(name: str, kwargs: dict[str, Any]) -> str:
    """Send task `name` through the broker; returns its task id, raises Unavailable."""
    # The one place in ied_workflow that talks to Celery; its app reads the settings.
    from config.celery_app import app as celery

    url = celery.conf.broker_url
    try:
        with celery.connection_for_write(transport_options=SOCKET_TIMEOUTS) as connection:
            result = celery.send_task(
                name, kwargs=kwargs, connection=connection, retry=True, retry_policy=PUBLISH_RETRY
            )
    except (OperationalError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Unavailable(f"broker {maybe_sanitize_url(url)} unreachable: {reason}") from None
    return str(result.id)
