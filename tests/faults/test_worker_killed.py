"""A worker SIGKILLed mid-dispatch loses no alert: the outbox lease brings the rows back.

Slack answers slowly and leases are short, so the kill lands while a batch is in flight.
When the whole worker dies, Celery's late ack does not help (the process group dies, and
Redis only redelivers after the visibility timeout): the periodic dispatch, played by the
test as beat would, finds the rows whose lease ran out and sends them again. When only a
pool child dies, the worker survives and runs the task again (reject on worker lost).
Delivery is at least once: only rows in flight at the kill may be sent twice.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from celery import Celery

from ied_workflow.domain import FollowUp
from ied_workflow.workflow import Workflow
from tests.support.data import delivery_rows, duplicates, overdue_follow_ups
from tests.support.deployment import Deploy, Deployment, alerting
from tests.support.faults import record_figures
from tests.support.processes import CeleryProcess, celery_processes
from tests.support.servers import PrivateRedis
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LEASE = 3  # seconds before a claimed, unfinished row may be claimed again


@dataclass(frozen=True)
class Load:
    """What the worker is dispatching when it is killed."""

    alerts: int
    batch: int  # rows per claim
    concurrency: int  # pool processes
    slack_delay: float  # seconds Slack holds each answer
    kill_after_posts: int
    email: bool  # alerted by email as well as Slack
    scan_in_worker: bool  # queued by the scan task; else scanned here, then a dispatch sent
    figures: str | None  # name of the figures recorded in bench-results/reliability/

    @property
    def channels(self) -> tuple[str, ...]:
        return ("slack", "email") if self.email else ("slack",)


# 1,000 alerts, 20 to a Slack message so every one is visible; about 300 out at the kill.
MANY = Load(1000, 20, 2, 0.25, 15, email=False, scan_in_worker=True, figures="worker_killed")
# One pool process, so the only concurrency is the one the test creates: the restart.
FEW = Load(10, 2, 1, 0.5, 2, email=True, scan_in_worker=False, figures=None)


@dataclass
class Dispatching:
    """A worker on a private Redis, and the overdue follow-ups it is to alert."""

    deployment: Deployment
    worker: CeleryProcess
    made: list[FollowUp]
    load: Load

    @property
    def workflow(self) -> Workflow:
        return self.deployment.workflow

    @property
    def ids(self) -> set[int]:
        return {f.id for f in self.made}


def dispatching(
    load: Load, deploy: Deploy, database: str, redis: PrivateRedis, slack: FakeSlack, smtp: SmtpSink
) -> Dispatching:
    """Given `load.alerts` overdue follow-ups and a worker (not started) alerting a slow Slack."""
    slack.delay = load.slack_delay
    deployment = deploy(
        database,
        redis.url,
        notify_batch_size=load.batch,
        notify_lease_seconds=LEASE,
        **alerting(slack, smtp if load.email else None),
    )
    now = deployment.workflow.now()  # the database's clock, which the worker reads
    made = overdue_follow_ups(deployment.workflow, load.alerts, now - timedelta(hours=2))
    if not load.scan_in_worker:
        deployment.workflow.scan_overdue(now)
    worker = deployment.celery("worker", f"--concurrency={load.concurrency}")
    return Dispatching(deployment, worker, made, load)


def start_dispatch(app: Celery, load: Load) -> None:
    app.send_task("ied.scan_overdue" if load.scan_in_worker else "ied.dispatch_notifications")


def rows_in_flight(workflow: Workflow) -> list[dict[str, Any]]:
    """Rows claimed by a dispatcher and neither sent nor rescheduled: what a kill strands."""
    return [r for r in delivery_rows(workflow) if r["status"] == "pending" and r["claimed_until"]]


def per_channel(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(row["channel"] for row in rows)


def dispatch_until_all_sent(app: Celery, run: Dispatching, timeout: float = 45) -> int:
    """Send the dispatch task once a second, as beat would, until every row is sent."""
    expected, sends = run.load.alerts * len(run.load.channels), 0

    def done() -> bool:
        nonlocal sends
        rows = delivery_rows(run.workflow)
        if len(rows) == expected and all(row["status"] == "sent" for row in rows):
            return True
        app.send_task("ied.dispatch_notifications")
        sends += 1
        return False

    wait_until(done, timeout, "every alert sent after the kill", every=1.0)
    return sends


def assert_delivered_at_least_once(
    run: Dispatching, slack: FakeSlack, smtp: SmtpSink, in_flight: Counter[str]
) -> dict[str, int]:
    """Every follow-up alerted on every channel; repeats only among the rows in flight."""
    rows = delivery_rows(run.workflow)
    assert len(rows) == run.load.alerts * len(run.load.channels)
    assert {r["status"] for r in rows} == {"sent"}
    listed = {"slack": slack.follow_up_ids(), "email": smtp.follow_up_ids()}
    doubled = {channel: duplicates(listed[channel]) for channel in run.load.channels}
    for channel in run.load.channels:
        assert set(listed[channel]) == run.ids, f"{channel} lost alerts"
        assert doubled[channel] <= in_flight[channel], f"{channel}: more repeats than in flight"
    return doubled


@pytest.mark.parametrize(
    "load", [pytest.param(MANY, id="1000-alerts"), pytest.param(FEW, id="10-alerts-2-channels")]
)
def test_worker_killed_mid_dispatch_then_restarted_delivers_every_alert(
    load: Load,
    deploy: Deploy,
    postgres_database: str,
    private_redis: PrivateRedis,
    slack: FakeSlack,
    smtp: SmtpSink,
) -> None:
    # Given overdue follow-ups and a worker alerting them to a slow Slack
    run = dispatching(load, deploy, postgres_database, private_redis, slack, smtp)
    with celery_processes(run.worker), run.deployment.broker() as app:
        run.worker.start().wait_ready()

        # When the worker is SIGKILLed mid-dispatch, while Slack is holding a post
        start_dispatch(app, load)
        slack.wait_for(load.kill_after_posts, timeout=40)
        run.worker.kill()
        posts_at_kill = len(slack.posts.all())
        in_flight = per_channel(rows_in_flight(run.workflow))
        sent_at_kill = sum(1 for r in delivery_rows(run.workflow) if r["status"] == "sent")

        # ...and restarted, with the periodic dispatch running again
        slack.delay = 0
        restarted = time.monotonic()
        run.worker.start().wait_ready()
        sends = dispatch_until_all_sent(app, run)
        recovered = time.monotonic() - restarted

    # Then every alert was delivered, and the only repeats are rows in flight at the kill
    assert 0 < in_flight["slack"] <= load.concurrency * load.batch
    doubled = assert_delivered_at_least_once(run, slack, smtp, in_flight)
    figures = {
        "alerts": load.alerts,
        "batch_size": load.batch,
        "lease_seconds": LEASE,
        "worker_concurrency": load.concurrency,
        "slack_posts_before_kill": posts_at_kill,
        "rows_sent_before_kill": sent_at_kill,
        "rows_in_flight_at_kill": sum(in_flight.values()),
        "duplicates_after_restart": sum(doubled.values()),
        "lost": load.alerts - len(set(slack.follow_up_ids())),
        "slack_posts_total": len(slack.posts.all()),
        "max_attempts_of_a_row": max(r["attempts"] for r in delivery_rows(run.workflow)),
        "dispatches_sent_after_restart": sends,
        "seconds_from_restart_to_all_sent": round(recovered, 2),
    }
    if load.figures:
        record_figures(load.figures, figures)
    else:
        print(f"\nworker killed: {figures}")


def test_pool_child_killed_mid_dispatch_gets_its_task_redelivered(
    deploy: Deploy,
    postgres_database: str,
    private_redis: PrivateRedis,
    slack: FakeSlack,
    smtp: SmtpSink,
) -> None:
    # Given overdue follow-ups in the outbox, and a running worker
    run = dispatching(FEW, deploy, postgres_database, private_redis, slack, smtp)
    with celery_processes(run.worker), run.deployment.broker() as app:
        run.worker.start().wait_ready()

        # When its pool child is SIGKILLed while Slack holds the second message
        start_dispatch(app, FEW)
        slack.wait_for(FEW.kill_after_posts, timeout=30)
        flying = rows_in_flight(run.workflow)
        [child] = run.worker.pool_children()
        os.kill(child, signal.SIGKILL)

        # Then the worker survives and runs the task again (reject on worker lost):
        # every row not in flight is sent without anyone sending another task
        in_flight_ids = {row["id"] for row in flying}

        def only_in_flight_unsent() -> bool:
            return {r["id"] for r in delivery_rows(run.workflow) if r["status"] != "sent"} <= (
                in_flight_ids
            )

        wait_until(only_in_flight_unsent, 30, "redelivered task ran")
        assert run.worker.running()
        # ...and the in-flight rows go with a dispatch after their lease
        dispatch_until_all_sent(app, run)

    assert_delivered_at_least_once(run, slack, smtp, per_channel(flying))
