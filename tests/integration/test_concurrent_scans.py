"""Overdue scans racing on PostgreSQL: dedupe keys, not luck, keep alerts to one per event."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from ied_workflow.alerts.channels import ConsoleChannel
from ied_workflow.alerts.overdue import ScanResult
from ied_workflow.workflow import Workflow
from tests.support.data import delivery_rows, overdue_follow_ups
from tests.support.settings import build_settings

pytestmark = pytest.mark.postgres

SCANNERS = 4  # like four beats firing the same tick
FOLLOW_UPS = 60
CHANNELS = ("slack", "email")


@pytest.fixture
def scanners(postgres_database: str) -> Iterator[list[Workflow]]:
    """Workflows with their own connection pools, alerting by Slack and by email."""
    settings = build_settings(
        postgres_database,
        slack_webhook_url="http://127.0.0.1:9/never-called",
        smtp_host="127.0.0.1",
        ops_emails=["ops-team@ied.example"],
    )
    workflows = [Workflow.from_settings(settings) for _ in range(SCANNERS)]
    yield workflows
    for workflow in workflows:
        workflow.engine.dispose()


def scan_together(scanners: list[Workflow], now: datetime) -> list[ScanResult]:
    """Every scanner scans at `now`, released at the same moment by a barrier."""
    start = threading.Barrier(len(scanners))

    def scan(workflow: Workflow) -> ScanResult:
        start.wait(timeout=10)
        return workflow.scan_overdue(now)

    with ThreadPoolExecutor(len(scanners)) as pool:
        return list(pool.map(scan, scanners))


def test_scans_at_the_same_instant_write_one_alert_per_follow_up(
    scanners: list[Workflow],
) -> None:
    # Given overdue follow-ups
    now = scanners[0].now()
    made = overdue_follow_ups(scanners[0], FOLLOW_UPS, now - timedelta(hours=2))
    expected = {f.id: 1 for f in made}

    # When four scanners scan at the same instant
    first = scan_together(scanners, now)

    # Then each follow-up has one alert, written by exactly one scanner
    alerts = scanners[0].undelivered_alerts(limit=10_000)
    assert Counter(alert["follow_up_id"] for alert in alerts) == expected
    assert sum(result.alerts_written for result in first) == len(expected)

    # When they race again a reminder period later
    reminder = now + timedelta(hours=scanners[0].settings.overdue_reminder_hours)
    again = scan_together(scanners, reminder)

    # Then each follow-up got exactly one reminder, and a dispatcher with two channels
    # makes one delivery of each alert per channel
    alerts = scanners[0].undelivered_alerts(limit=10_000)
    assert Counter(alert["follow_up_id"] for alert in alerts) == {key: 2 for key in expected}
    assert len({alert["episode_key"] for alert in alerts}) == 2 * FOLLOW_UPS
    assert sum(result.alerts_written for result in again) == len(expected)
    scanners[0].dispatch({name: ConsoleChannel(io.StringIO()) for name in CHANNELS}, now=reminder)
    rows = delivery_rows(scanners[0])
    assert Counter((row["follow_up_id"], row["channel"]) for row in rows) == {
        (f.id, channel): 2 for f in made for channel in CHANNELS
    }
