"""Overdue scans racing on PostgreSQL: dedupe keys, not luck, keep alerts to one per event."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from ied_workflow.outbox import ScanResult
from ied_workflow.workflow import Workflow
from tests.support.data import outbox_rows, overdue_follow_ups
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


def test_scans_at_the_same_instant_write_one_alert_per_follow_up_per_channel(
    scanners: list[Workflow],
) -> None:
    # Given overdue follow-ups, alerted by Slack and by email
    now = datetime.now(UTC)
    made = overdue_follow_ups(scanners[0], FOLLOW_UPS, now - timedelta(hours=2))
    expected = {(f.id, channel): 1 for f in made for channel in CHANNELS}

    # When four scanners scan at the same instant
    first = scan_together(scanners, now)

    # Then each follow-up has one alert row per channel, written by exactly one scanner
    rows = outbox_rows(scanners[0])
    assert Counter((row["follow_up_id"], row["channel"]) for row in rows) == expected
    assert sum(result.alerts_written for result in first) == len(expected)

    # When they race again a reminder period later
    reminder = now + timedelta(hours=scanners[0].settings.overdue_reminder_hours)
    again = scan_together(scanners, reminder)

    # Then each follow-up got exactly one reminder row per channel
    rows = outbox_rows(scanners[0])
    assert Counter((row["follow_up_id"], row["channel"]) for row in rows) == {
        key: 2 for key in expected
    }
    assert len({row["dedupe_key"] for row in rows}) == 2 * FOLLOW_UPS
    assert sum(result.alerts_written for result in again) == len(expected)
