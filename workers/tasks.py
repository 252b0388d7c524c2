"""Celery tasks: thin wrappers that parse their input and call the Workflow.

Task names are stable strings so that other IED services can send them by name.
Transient database errors are retried with backoff and jitter; delivery errors are
recorded on the deliveries themselves, never raised here. Without `now`, the
database's clock decides (see ied_workflow.db.clock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task
from sqlalchemy.exc import DBAPIError, OperationalError

from ied_workflow import validation
from ied_workflow.serialize import to_json
from workers.runtime import enqueue_dispatch, workflow

RETRY = {
    "autoretry_for": (OperationalError, DBAPIError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,  # well below the broker's visibility timeout
    "retry_jitter": True,
    "max_retries": 20,
}


def _now(now: str | None) -> datetime | None:
    return None if now is None else validation.parse_datetime(now, "now")


@shared_task(name="ied.scan_overdue", **RETRY)
def scan_overdue(now: str | None = None) -> dict[str, Any]:
    """Record overdue alerts (idempotent); a commit that recorded any asks for a dispatch."""
    result: dict[str, Any] = to_json(workflow().scan_overdue(_now(now)))
    return result


@shared_task(name="ied.dispatch_notifications", **RETRY)
def dispatch_notifications(now: str | None = None) -> dict[str, Any]:
    """Deliver pending alerts on every channel configured in this worker."""
    result: dict[str, Any] = to_json(workflow().dispatch(now=_now(now)))
    return result


@shared_task(name="ied.send_digest", **RETRY)
def send_digest(now: str | None = None) -> dict[str, Any]:
    """Record today's digest (once per local day); its commit asks for a dispatch."""
    return {"rowsWritten": workflow().send_digest(_now(now))}


@shared_task(name="ied.notify_closed_with_issue", **RETRY)
def notify_closed_with_issue() -> dict[str, Any]:
    """Closed-with-issue alerts are recorded with the outcome; this asks for their dispatch."""
    enqueue_dispatch()
    return {"dispatchRequested": True}
