"""Two dispatchers at once (two workers, or beat's tick beside the post-commit hint).

Leases must keep a row claimed by one dispatcher away from the other while it sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ied_workflow.workflow import Workflow
from tests.support.data import all_sent, duplicates, overdue_follow_ups
from tests.support.settings import build_settings
from tests.support.slack import FakeSlack

pytestmark = pytest.mark.postgres

ALERTS = 5
LEASE_SECONDS = 2
SLACK_DELAY = 1.0  # one post a second, so one run of five posts outlasts its lease


@pytest.fixture
def dispatchers(postgres_database: str, slack: FakeSlack) -> Iterator[list[Workflow]]:
    """Two workflows, like two workers, posting one alert per Slack message to a slow Slack."""
    slack.delay = SLACK_DELAY
    settings = build_settings(
        postgres_database,
        slack_webhook_url=slack.url,
        notify_batch_size=1,
        notify_lease_seconds=LEASE_SECONDS,
    )
    workflows = [Workflow.from_settings(settings) for _ in range(2)]
    yield workflows
    for workflow in workflows:
        workflow.engine.dispose()


def dispatch_now(workflow: Workflow) -> None:
    """What the ied.dispatch_notifications task does: the database's clock at each step."""
    workflow.dispatch()


def test_dispatcher_starting_during_a_long_run_sends_no_alert_twice(
    dispatchers: list[Workflow], slack: FakeSlack
) -> None:
    # Given overdue alerts in the outbox, and a dispatch run longer than the lease
    now = dispatchers[0].now()
    made = overdue_follow_ups(dispatchers[0], ALERTS, now - timedelta(hours=1))
    dispatchers[0].scan_overdue(now)
    running = threading.Thread(target=dispatch_now, args=(dispatchers[0],))
    running.start()

    # When a second dispatcher starts once the first has run longer than a lease
    time.sleep(LEASE_SECONDS + SLACK_DELAY / 2)
    dispatch_now(dispatchers[1])
    running.join(timeout=30)

    # Then every alert was posted, and none twice
    posted = slack.follow_up_ids()
    assert all_sent(dispatchers[0])
    assert set(posted) == {f.id for f in made}
    assert duplicates(posted) == 0, f"{duplicates(posted)} of {ALERTS} alerts posted twice"
