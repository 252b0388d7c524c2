"""A real `celery -A workers worker` subprocess delivers alerts end to end.

It is configured only through IED_* environment variables and listens on a queue of
this test's own (`-Q`), since other sessions may share the Redis server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.celery_app import make_app
from ied_workflow.domain import Outcome
from ied_workflow.workflow import Workflow
from tests.fakes import SlackWebhook, SmtpServer
from tests.worker.support import (
    OPS,
    WorkerProcess,
    all_sent,
    ied_env,
    overdue_follow_ups,
    settings_from,
    wait_until,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

# Mingle and gossip would talk to other sessions' workers on the shared Redis.
QUIET = ("--without-mingle", "--without-gossip")


@pytest.fixture
def env(database: str, slack: SlackWebhook, smtp: SmtpServer) -> dict[str, str]:
    return ied_env(database, slack, smtp)


@pytest.fixture
def workflow(env: dict[str, str]) -> Iterator[Workflow]:
    """The test's side of the database, alerting on the same channels as the worker."""
    workflow = Workflow.from_settings(settings_from(env))
    yield workflow
    workflow.engine.dispose()


def test_worker_process_delivers_overdue_and_closed_with_issue_alerts(
    namespace: str,
    env: dict[str, str],
    workflow: Workflow,
    slack: SlackWebhook,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    # Given three overdue follow-ups scanned into the outbox, and one closed with an issue
    now = datetime.now(UTC)
    late = overdue_follow_ups(workflow, 3, now - timedelta(hours=5))
    workflow.scan_overdue(now)
    [closed] = overdue_follow_ups(workflow, 1, now + timedelta(days=1), first=4)
    workflow.log_contact(closed.id, by=OPS, outcome="reached_customer")
    issue = Outcome(has_issue=True, issue_summary="inverter beeps at night")
    workflow.record_outcome(closed.id, by=OPS, outcome=issue)

    # When a worker started the production way gets a dispatch sent by name
    worker = WorkerProcess(
        "workers", ["-Q", namespace, "--concurrency=2", *QUIET], env, tmp_path / "worker.log"
    )
    sender = make_app(settings_from(env))
    try:
        worker.wait_ready()
        sender.send_task("ied.dispatch_notifications", queue=namespace)
        wait_until(lambda: all_sent(workflow.engine), 30, "every outbox row sent")
    finally:
        sender.close()
        worker.stop()

    # Then Slack and email each carried one overdue list and one closed-with-issue alert
    titles = sorted(post.title for post in slack.posts.all())
    assert titles == [
        "3 follow-ups are overdue",
        f"Follow-up #{closed.id} was closed with an issue",
    ]
    every_one = sorted([*(f.id for f in late), closed.id])
    assert sorted(slack.follow_up_ids()) == every_one
    emails = smtp.emails.all()
    assert len(emails) == 2
    assert sorted(smtp.follow_up_ids()) == every_one
    assert any("inverter beeps at night" in email.text for email in emails)
    assert "Traceback" not in worker.output()
