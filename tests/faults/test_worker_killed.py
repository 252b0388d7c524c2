"""A worker SIGKILLed mid-dispatch loses no alert: the outbox lease brings the rows back.

Celery's late ack does not help here (the whole process group dies, and Redis only
redelivers after the visibility timeout); the periodic dispatch, played by the test
as beat would, finds the rows whose lease ran out and sends them again.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery

from ied_workflow.workflow import Workflow
from tests.fakes import SlackWebhook
from tests.faults.processes import (
    CeleryProcess,
    broker,
    celery_processes,
    settings_from,
    worker_env,
)
from tests.faults.servers import PrivateRedis
from tests.faults.support import (
    duplicates,
    outbox_rows,
    overdue_follow_ups,
    record_figures,
    slack_ids,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ALERTS = 1000
BATCH = 20  # rows per claim; Slack lists 20 follow-ups a message, so every one is visible
LEASE = 3  # seconds before a claimed, unfinished row may be claimed again
CONCURRENCY = 2
KILL_AFTER_POSTS = 15  # about 300 alerts out, 700 still to go


def rows_in_flight(workflow: Workflow) -> int:
    """Rows claimed by a dispatcher and neither sent nor rescheduled: what a kill strands."""
    return sum(1 for r in outbox_rows(workflow) if r["status"] == "pending" and r["claimed_until"])


def dispatch_until_all_sent(app: Celery, workflow: Workflow, timeout: float) -> float:
    """Send the dispatch task once a second, as beat would, until every row is sent."""

    def done() -> bool:
        rows = outbox_rows(workflow)
        if len(rows) == ALERTS and all(row["status"] == "sent" for row in rows):
            return True
        app.send_task("ied.dispatch_notifications")
        return False

    return wait_until(done, timeout, "every alert sent after the restart", every=1.0)


def test_worker_killed_mid_dispatch_delivers_every_alert_with_at_most_the_in_flight_doubled(
    shared_database: str, private_redis: PrivateRedis, slow_slack: SlackWebhook, tmp_path: Path
) -> None:
    # Given 1,000 overdue follow-ups and a worker alerting them to a slow Slack
    env = worker_env(
        shared_database,
        private_redis.url,
        slack_webhook_url=slow_slack.url,
        notify_batch_size=BATCH,
        notify_lease_seconds=LEASE,
    )
    settings = settings_from(env)
    workflow = Workflow.from_settings(settings)
    made = overdue_follow_ups(workflow, ALERTS, datetime.now(UTC) - timedelta(hours=2))
    worker = CeleryProcess("worker", env, tmp_path / "worker.log", f"--concurrency={CONCURRENCY}")
    with celery_processes(worker), broker(settings) as app:
        worker.start().wait_ready()

        # When the scan task queues the alerts and the worker is SIGKILLed mid-dispatch,
        # while Slack is still holding its answer to a post
        app.send_task("ied.scan_overdue")
        slow_slack.posts.wait_for(KILL_AFTER_POSTS, timeout=40)
        worker.kill()
        posts_at_kill = len(slow_slack.posts.all())
        in_flight = rows_in_flight(workflow)
        sent_at_kill = sum(1 for r in outbox_rows(workflow) if r["status"] == "sent")

        # ...and restarted, with the periodic dispatch running again
        slow_slack.delay = 0
        restarted = time.monotonic()
        worker.start().wait_ready()
        dispatch_until_all_sent(app, workflow, timeout=45)
        recovered = time.monotonic() - restarted

    # Then every alert was delivered: every row sent, every follow-up in some message
    rows = outbox_rows(workflow)
    assert len(rows) == ALERTS and {r["status"] for r in rows} == {"sent"}
    listed = slack_ids(slow_slack.posts.all())
    assert set(listed) == {f.id for f in made}
    # ...and the only repeats are rows that were in flight when the worker died
    doubled = duplicates(listed)
    assert 0 < in_flight <= CONCURRENCY * BATCH
    assert doubled <= in_flight
    record_figures(
        "worker_killed",
        {
            "alerts": ALERTS,
            "batch_size": BATCH,
            "lease_seconds": LEASE,
            "worker_concurrency": CONCURRENCY,
            "slack_posts_before_kill": posts_at_kill,
            "rows_sent_before_kill": sent_at_kill,
            "rows_in_flight_at_kill": in_flight,
            "duplicates_after_restart": doubled,
            "lost": ALERTS - len(set(listed)),
            "slack_posts_total": len(slow_slack.posts.all()),
            "max_attempts_of_a_row": max(r["attempts"] for r in rows),
            "seconds_from_restart_to_all_sent": round(recovered, 2),
        },
    )
    workflow.engine.dispose()
