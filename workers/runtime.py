"""The worker process's workflow: created lazily in each child, after the fork."""

from __future__ import annotations

from functools import lru_cache

from celery import current_app

from config.settings import get_settings
from ied_workflow.db.engines import make_engine
from ied_workflow.workflow import Workflow


def enqueue_dispatch() -> None:
    """Ask a worker to dispatch now; the periodic dispatch covers a lost message."""
    current_app.send_task("ied.dispatch_notifications")


@lru_cache(maxsize=1)
def workflow() -> Workflow:
    """One engine per worker process; a commit that records an alert enqueues a dispatch."""
    settings = get_settings()
    return Workflow(make_engine(settings.database_url), settings, dispatch_soon=enqueue_dispatch)
