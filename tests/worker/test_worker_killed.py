"""A worker SIGKILLed in the middle of dispatch, then restarted, loses no alert.

Slack answers slowly, batches are small and leases short, so the kill lands while a
batch is in flight. Delivery is at least once: the in-flight batch may be sent again
after its lease ends, but nothing more than that.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import Engine

from config.celery_app import make_app
from ied_workflow.workflow import Workflow
from tests.fakes import SlackWebhook, SmtpServer
from tests.worker.support import (
    TEST_NAMESPACE_ENV,
    WorkerProcess,
    all_sent,
    duplicates,
    ied_env,
    namespaced,
    outbox,
    overdue_follow_ups,
    settings_from,
    wait_until,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

FOLLOW_UPS = 10
BATCH = 2  # rows per claim, so Slack gets FOLLOW_UPS / BATCH messages
LEASE_SECONDS = 3
SLACK_DELAY = 0.5  # seconds Slack holds each answer
# One pool process, so the only concurrency is the one this test creates: the restart.
WORKER_ARGS = ("--concurrency=1", "--without-mingle", "--without-gossip")


@pytest.fixture
def slow_slack() -> Iterator[SlackWebhook]:
    with SlackWebhook(delay=SLACK_DELAY) as webhook:
        yield webhook


@pytest.fixture
def env(
    namespace: str, database: str, slow_slack: SlackWebhook, smtp: SmtpServer
) -> dict[str, str]:
    settings = ied_env(
        database,
        slow_slack,
        smtp,
        notify_batch_size=str(BATCH),
        notify_lease_seconds=str(LEASE_SECONDS),
    )
    return settings | {TEST_NAMESPACE_ENV: namespace}


@pytest.fixture
def workflow(env: dict[str, str]) -> Iterator[Workflow]:
    workflow = Workflow.from_settings(settings_from(env))
    yield workflow
    workflow.engine.dispose()


@pytest.fixture
def sender(env: dict[str, str], namespace: str) -> Iterator[Celery]:
    """Sends tasks into the namespace the workers listen on."""
    app = namespaced(make_app(settings_from(env)), namespace)
    yield app
    app.close()


def start(env: dict[str, str], log: Path) -> WorkerProcess:
    worker = WorkerProcess("tests.worker.namespaced_app", WORKER_ARGS, env, log)
    worker.wait_ready()
    return worker


def in_flight(engine: Engine) -> list[dict[str, Any]]:
    """Rows claimed but not yet marked: what a crash can make sent twice."""
    return [r for r in outbox(engine) if r["status"] == "pending" and r["claimed_until"]]


def unsent(engine: Engine) -> set[int]:
    return {row["id"] for row in outbox(engine) if row["status"] != "sent"}


def per_channel(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(row["channel"] for row in rows)


def dispatch_until_all_sent(sender: Celery, workflow: Workflow, timeout: float = 40) -> int:
    """Send a dispatch every second, as beat would, until no row is pending; returns sends."""
    deadline, sends = time.monotonic() + timeout, 0
    while not all_sent(workflow.engine):
        assert time.monotonic() < deadline, f"rows still pending after {timeout} s"
        sender.send_task("ied.dispatch_notifications")
        sends += 1
        time.sleep(1)
    return sends


def test_worker_killed_mid_dispatch_then_restarted_delivers_every_alert(
    env: dict[str, str],
    workflow: Workflow,
    sender: Celery,
    slow_slack: SlackWebhook,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    # Given overdue follow-ups in the outbox, for Slack and for email
    now = datetime.now(UTC)
    ids = {f.id for f in overdue_follow_ups(workflow, FOLLOW_UPS, now - timedelta(hours=1))}
    workflow.scan_overdue(now)

    # When the worker is SIGKILLed while Slack holds its second message
    first = start(env, tmp_path / "first.log")
    try:
        sender.send_task("ied.dispatch_notifications")
        slow_slack.posts.wait_for(2, timeout=30)
        flying = per_channel(in_flight(workflow.engine))  # Slack is holding this batch
    finally:
        first.kill()
    posts_before_restart = len(slow_slack.posts.all())

    # ...and a new worker gets the periodic dispatch
    second = start(env, tmp_path / "second.log")
    try:
        sends = dispatch_until_all_sent(sender, workflow)
    finally:
        second.stop()

    # Then every follow-up was alerted on both channels: none lost
    slack_ids, email_ids = slow_slack.follow_up_ids(), smtp.follow_up_ids()
    assert (set(slack_ids), set(email_ids)) == (ids, ids)
    # ...and only rows in flight at the kill could be sent twice
    assert duplicates(slack_ids) <= flying["slack"]
    assert duplicates(email_ids) <= flying["email"]
    print(
        f"\nSIGKILL after {posts_before_restart} Slack posts; in flight: {dict(flying)}; "
        f"duplicates: slack={duplicates(slack_ids)} email={duplicates(email_ids)}; "
        f"dispatches sent after restart: {sends}"
    )


def test_pool_child_killed_mid_dispatch_gets_its_task_redelivered(
    env: dict[str, str],
    workflow: Workflow,
    sender: Celery,
    slow_slack: SlackWebhook,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    # Given overdue follow-ups in the outbox, and a running worker
    now = datetime.now(UTC)
    ids = {f.id for f in overdue_follow_ups(workflow, FOLLOW_UPS, now - timedelta(hours=1))}
    workflow.scan_overdue(now)
    worker = start(env, tmp_path / "worker.log")
    try:
        # When its pool child is SIGKILLed while Slack holds the second message
        sender.send_task("ied.dispatch_notifications")
        slow_slack.posts.wait_for(2, timeout=30)
        flying = in_flight(workflow.engine)
        [child] = worker.pool_children()
        os.kill(child, signal.SIGKILL)

        # Then the worker survives and runs the task again (reject on worker lost):
        # every row not in flight is sent without anyone sending another task
        in_flight_ids = {row["id"] for row in flying}
        wait_until(lambda: unsent(workflow.engine) <= in_flight_ids, 30, "redelivered task ran")
        assert worker.running()
        # ...and the in-flight rows go with a dispatch after their lease
        dispatch_until_all_sent(sender, workflow)
    finally:
        worker.stop()
    slack_ids, email_ids = slow_slack.follow_up_ids(), smtp.follow_up_ids()
    assert (set(slack_ids), set(email_ids)) == (ids, ids)
    assert duplicates(slack_ids) <= per_channel(flying)["slack"]
    assert duplicates(email_ids) <= per_channel(flying)["email"]
