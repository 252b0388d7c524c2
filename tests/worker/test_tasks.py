"""The Celery tasks, sent by name, run by a real in-thread worker on Redis and PostgreSQL.

Alerts reach a real local HTTP server playing the Slack webhook and a real aiosmtpd
server; the worker reads its settings from IED_* variables, as in production.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from config.celery_app import make_app
from config.settings import get_settings
from ied_workflow.alerts.channels import channels_from_settings
from ied_workflow.domain import Outcome
from ied_workflow.workflow import Workflow
from tests.support.data import OPS, OPS_EMAILS, all_sent, delivery_rows, overdue_follow_ups
from tests.support.deployment import Deployment
from tests.support.redis_namespaces import namespaced
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until
from workers import runtime

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

HOSTILE = "<!channel> call me & <@U123> <https://evil|click> <b>bold</b>"
PINGS = ("<!channel>", "<@U123>", "<https://evil")  # what Slack would act on if unescaped
SLACK_ESCAPED = "&lt;!channel&gt; call me &amp; &lt;@U123&gt; &lt;https://evil|click&gt;"


class Finished:
    """Ids of the tasks the worker finished, heard on Celery's task_postrun signal."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, task_id: str, **_: Any) -> None:
        with self._lock:
            self._ids.add(task_id)

    def wait(self, task_id: str, timeout: float) -> None:
        """Polls (see tests/support/waiting.py: timed lock waits hang under libfaketime)."""
        wait_until(lambda: self._finished(task_id), timeout, f"task {task_id} finished", 0.01)

    def _finished(self, task_id: str) -> bool:
        with self._lock:
            return task_id in self._ids


@dataclass
class Worker:
    """The running in-thread worker, and a workflow on its database for the test's side."""

    app: Celery
    finished: Finished
    workflow: Workflow

    def run(self, name: str, **kwargs: Any) -> None:
        """Send task `name` by name, as another service would, and wait until it ran."""
        self.finished.wait(self.app.send_task(name, kwargs=kwargs).id, timeout=30)

    def wait_all_sent(self) -> None:
        """Every outbox row sent on every channel the worker sends to."""
        channels = channels_from_settings(self.workflow.settings)  # the deployment's
        wait_until(lambda: all_sent(self.workflow, channels), 30, "every outbox row sent")


@pytest.fixture
def worker(
    namespace: str, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Worker]:
    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runtime.workflow.cache_clear()
    app = namespaced(make_app(get_settings()), namespace)
    finished = Finished()
    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
            yield Worker(app, finished, deployment.workflow)
    finally:
        task_postrun.disconnect(finished)
        if runtime.workflow.cache_info().currsize:
            runtime.workflow().engine.dispose()
        runtime.workflow.cache_clear()
        get_settings.cache_clear()


def test_overdue_scan_sent_by_name_alerts_each_channel_once(
    worker: Worker, slack: FakeSlack, smtp: SmtpSink
) -> None:
    # Given three follow-ups that went overdue two hours ago
    now = worker.workflow.now()
    ids = sorted(f.id for f in overdue_follow_ups(worker.workflow, 3, now - timedelta(hours=2)))

    # When another service sends the scan by name, twice at the same instant, then a dispatch
    worker.run("ied.scan_overdue", now=now.isoformat())
    worker.run("ied.scan_overdue", now=now.isoformat())
    worker.run("ied.dispatch_notifications")
    worker.wait_all_sent()

    # Then Slack got one message listing all three, and operations one email listing them
    [post] = slack.posts.all()
    assert (post.title, sorted(post.follow_up_ids)) == ("3 follow-ups are overdue", ids)
    [email] = smtp.emails.all()
    assert sorted(email.follow_up_ids) == ids
    assert email.rcpt_tos == OPS_EMAILS.split(",")
    assert len(delivery_rows(worker.workflow)) == 2 * len(ids)  # one row per channel each


def test_digest_sent_twice_the_same_day_is_delivered_once(
    worker: Worker, slack: FakeSlack, smtp: SmtpSink
) -> None:
    # Given one overdue follow-up, so the digest has something to count
    now = worker.workflow.now()
    overdue_follow_ups(worker.workflow, 1, now - timedelta(hours=2))

    # When the digest task is sent twice (a doubled beat tick), then a dispatch
    worker.run("ied.send_digest", now=now.isoformat())
    worker.run("ied.send_digest", now=now.isoformat())
    worker.run("ied.dispatch_notifications")
    worker.wait_all_sent()

    # Then each channel delivered the day's digest once
    [post] = slack.posts.all()
    assert post.title == "Daily follow-up digest"
    assert "*Overdue:* 1" in post.text
    [email] = smtp.emails.all()
    assert "Daily follow-up digest" in email.subject
    assert "Overdue: 1" in email.text


def test_closed_with_issue_alert_carries_the_escaped_issue_summary(
    worker: Worker, slack: FakeSlack, smtp: SmtpSink
) -> None:
    # Given a follow-up, not overdue, whose customer was reached
    due = worker.workflow.now() + timedelta(days=2)
    [follow_up] = overdue_follow_ups(worker.workflow, 1, due)
    worker.workflow.log_contact(follow_up.id, by=OPS, outcome="reached_customer")

    # When it closes with an open issue described in hostile text, and the task is sent by name
    issue = Outcome(has_issue=True, issue_summary=HOSTILE)
    worker.workflow.record_outcome(follow_up.id, by=OPS, outcome=issue)
    worker.run("ied.notify_closed_with_issue")
    worker.wait_all_sent()

    # Then one Slack alert shows the summary as inert text, pinging nobody
    [post] = slack.posts.all()
    assert post.title == f"Follow-up #{follow_up.id} was closed with an issue"
    assert SLACK_ESCAPED in post.text
    raw = json.dumps(post.body)
    assert not [ping for ping in PINGS if ping in raw]
    # ...and one email whose HTML renders the tag as text and whose headers never quote it
    [email] = smtp.emails.all()
    assert "&lt;b&gt;bold&lt;/b&gt;" in email.html
    assert "<b>bold</b>" not in email.html
    assert HOSTILE in email.text
    assert all("channel" not in str(value) for _, value in email.message.items())
