"""A real `celery -A workers worker` subprocess delivers alerts end to end.

It is configured only through IED_* environment variables and listens on a queue of
this test's own (`-Q`), since other sessions may share the Redis server.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ied_workflow.alerts.channels import channels_from_settings
from ied_workflow.domain import Outcome
from tests.support.data import OPS, all_sent, overdue_follow_ups
from tests.support.deployment import Deployment
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

# Mingle and gossip would talk to other sessions' workers on the shared Redis.
QUIET = ("--without-mingle", "--without-gossip")


def test_worker_process_delivers_overdue_and_closed_with_issue_alerts(
    namespace: str, deployment: Deployment, slack: FakeSlack, smtp: SmtpSink
) -> None:
    workflow = deployment.workflow
    # Given three overdue follow-ups scanned into the outbox, and one closed with an issue
    now = workflow.now()  # the database's clock, which the worker reads
    late = overdue_follow_ups(workflow, 3, now - timedelta(hours=5))
    workflow.scan_overdue(now)
    [closed] = overdue_follow_ups(workflow, 1, now + timedelta(days=1), first=4)
    workflow.log_contact(closed.id, by=OPS, outcome="reached_customer")
    issue = Outcome(has_issue=True, issue_summary="inverter beeps at night")
    workflow.record_outcome(closed.id, by=OPS, outcome=issue)

    # When a worker started the production way gets a dispatch sent by name
    worker = deployment.celery("worker", "-Q", namespace, "--concurrency=2", *QUIET)
    with deployment.broker() as sender:
        worker.start().wait_ready()
        sender.send_task("ied.dispatch_notifications", queue=namespace)
        channels = channels_from_settings(workflow.settings)  # the worker's, too
        wait_until(lambda: all_sent(workflow, channels), 30, "every outbox row sent")
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
