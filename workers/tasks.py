"""Celery tasks: thin wrappers that parse their input and call ied_workflow.

Task names are stable strings so that other IED services can send them by name.
Transient database errors are retried with backoff and jitter; delivery errors are
recorded on the outbox rows themselves, never raised here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import shared_task
from sqlalchemy.exc import DBAPIError, OperationalError

from ied_workflow import validation
from ied_workflow.dispatch import dispatch
from ied_workflow.notify.channels import channels_from_settings
from ied_workflow.serialize import to_json
from workers.runtime import enqueue_dispatch, workflow

RETRY = {
    "autoretry_for": (OperationalError, DBAPIError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,  # well below the broker's visibility timeout
    "retry_jitter": True,
    "max_retries": 20,
}


def _now(now: str | None) -> datetime:
    return datetime.now(UTC) if now is None else validation.parse_datetime(now, "now")


@shared_task(name="ied.scan_overdue", **RETRY)
def scan_overdue(now: str | None = None) -> dict[str, Any]:
    """Write overdue alerts to the outbox (idempotent), then ask for a dispatch."""
    result: dict[str, Any] = to_json(workflow().scan_overdue(_now(now)))
    return result


@shared_task(name="ied.dispatch_notifications", **RETRY)
def dispatch_notifications(now: str | None = None) -> dict[str, Any]:
    """Deliver pending outbox rows on every configured channel."""
    wf = workflow()
    result: dict[str, Any] = to_json(dispatch(wf, channels_from_settings(wf.settings), _now(now)))
    return result


@shared_task(name="ied.send_digest", **RETRY)
def send_digest(now: str | None = None) -> dict[str, Any]:
    """Queue today's digest (once per local day) and ask for a dispatch."""
    return {"rowsWritten": workflow().send_digest(_now(now))}


@shared_task(name="ied.notify_closed_with_issue", **RETRY)
def notify_closed_with_issue() -> dict[str, Any]:
    """Closed-with-issue alerts are outbox rows written with the outcome; this dispatches them."""
    enqueue_dispatch()
    return {"dispatchRequested": True}
