"""The worker process's workflow: created lazily in each child, after the fork."""

from __future__ import annotations

from functools import lru_cache

from celery import current_app

from ied_workflow.workflow import Workflow


def enqueue_dispatch() -> None:
    """Ask a worker to dispatch now; the periodic dispatch covers a lost message."""
    current_app.send_task("ied.dispatch_notifications")


@lru_cache(maxsize=1)
def workflow() -> Workflow:
    """One engine per worker process; outbox writes trigger an immediate dispatch."""
    wf = Workflow.from_settings()
    wf.on_outbox_write = enqueue_dispatch
    return wf
