"""What an operator sees of the worker side without a CLI: logs, metrics and the digest."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from ied_workflow.alerts import render
from ied_workflow.alerts.message import Message
from ied_workflow.errors import PermanentDeliveryError, TransientDeliveryError
from ied_workflow.web.metrics import worker_families
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, overdue_follow_ups


class Failing:
    """A channel whose every message fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    @contextmanager
    def open(self) -> Iterator[Failing]:
        yield self

    def send(self, message: Message) -> None:
        raise self.error


class Capturing:
    """A channel that keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    @contextmanager
    def open(self) -> Iterator[Capturing]:
        yield self

    def send(self, message: Message) -> None:
        self.sent.append(message)


def scrape(workflow: Workflow) -> str:
    class Figures(Collector):
        def collect(self):  # type: ignore[no-untyped-def]
            return worker_families(workflow.alert_figures())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Figures())
    return generate_latest(registry).decode()


def alerted(workflow: Workflow) -> int:
    overdue_follow_ups(workflow, 1, NOW - timedelta(hours=2))
    assert workflow.scan_overdue(NOW).alerts_written == 1
    [alert] = workflow.undelivered_alerts()
    return int(alert["id"])


def test_a_retry_is_a_warning_naming_channel_alert_and_next_attempt(
    workflow: Workflow, caplog: pytest.LogCaptureFixture
) -> None:
    alert_id = alerted(workflow)
    with caplog.at_level(logging.WARNING, logger="ied_workflow"):
        workflow.dispatch({"slack": Failing(TransientDeliveryError("HTTP 503"))}, now=NOW)
    [record] = [r for r in caplog.records if r.name == "ied_workflow.alerts.dispatch"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert message.startswith(f"slack delivery failed for alert {alert_id} (overdue, follow-up")
    assert "(attempt 1 of 8); next attempt at 2026-11-25T15:" in message
    assert "TransientDeliveryError: HTTP 503" in message


def test_an_alert_failed_for_good_is_an_error_a_metric_and_in_the_next_digest(
    workflow: Workflow, caplog: pytest.LogCaptureFixture
) -> None:
    alert_id = alerted(workflow)
    with caplog.at_level(logging.WARNING, logger="ied_workflow"):
        workflow.dispatch({"slack": Failing(PermanentDeliveryError("channel_not_found"))}, now=NOW)
    [record] = [r for r in caplog.records if r.name == "ied_workflow.alerts.dispatch"]
    assert record.levelno == logging.ERROR
    assert f"slack delivery failed for good for alert {alert_id}" in record.getMessage()
    assert 'ied_delivery_results_total{channel="slack",outcome="failed"} 1.0' in scrape(workflow)

    workflow.send_digest(NOW + timedelta(hours=1))
    digest = Capturing()
    workflow.dispatch({"slack": digest}, now=NOW + timedelta(hours=1))
    [message] = [m for m in digest.sent if m.kind == "digest"]
    assert message.counts["failed_alerts"] == 1
    assert "Failed alerts: 1" in render.plain_text(message)


def test_sent_and_retried_deliveries_are_counted_per_channel(workflow: Workflow) -> None:
    alerted(workflow)
    workflow.dispatch({"email": Failing(TransientDeliveryError("421"))}, now=NOW)
    workflow.dispatch({"slack": Capturing()}, now=NOW)
    text = scrape(workflow)
    assert 'ied_delivery_results_total{channel="email",outcome="retried"} 1.0' in text
    assert 'ied_delivery_results_total{channel="slack",outcome="sent"} 1.0' in text
    assert 'ied_alerts_written_total{kind="overdue"} 1.0' in text


def test_each_scan_logs_its_counts_and_duration_and_is_measured(
    workflow: Workflow, caplog: pytest.LogCaptureFixture
) -> None:
    overdue_follow_ups(workflow, 3, NOW - timedelta(hours=2))
    with caplog.at_level(logging.DEBUG, logger="ied_workflow"):
        workflow.scan_overdue(NOW)
        workflow.scan_overdue(NOW)
    lines = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "ied_workflow.workflow"
    ]
    assert lines[0][0] == "INFO"
    assert lines[0][1].startswith("overdue scan: 3 alert(s) written in 1 batch(es), ")
    # Scans run every few seconds: one that wrote nothing stays out of INFO logs.
    assert lines[1][0] == "DEBUG"
    assert lines[1][1].startswith("overdue scan: 0 alert(s) written")
    text = scrape(workflow)
    assert "ied_overdue_scan_duration_seconds_count 2.0" in text
    assert "ied_overdue_scan_last_alerts 0.0" in text
    last_run = next(
        line for line in text.splitlines() if line.startswith("ied_overdue_scan_last_run")
    )
    assert float(last_run.split()[1]) == NOW.timestamp()


def test_oldest_pending_alert_age_counts_from_when_it_was_recorded(workflow: Workflow) -> None:
    overdue_follow_ups(workflow, 1, NOW - timedelta(hours=3))
    workflow.scan_overdue(NOW - timedelta(hours=2))
    assert workflow.alert_figures().oldest_pending_seconds == 2 * 3600
    workflow.dispatch({"slack": Capturing()}, now=NOW)
    assert workflow.alert_figures().oldest_pending_seconds == 0
