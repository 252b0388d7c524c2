"""Prometheus metrics: the workflow's state, read at scrape time, and request latency.

Each app has its own registry, so tests and several apps in one process never clash.
The follow-up and delivery figures are read from the database on each scrape (one
dashboard query set and a few grouped counts), never kept in the process, so every
worker process reports the same truth. So are the worker side's figures: Celery workers
record their scans and delivery results in the `measurements` table (see
ied_workflow/measurements.py), and this endpoint is where Prometheus scrapes them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from ied_workflow.alerts import measurements as m
from ied_workflow.domain import Status
from ied_workflow.workflow import Workflow
from ied_workflow.workflow.alerts import AlertFigures

OUTCOMES = {
    "sent": m.DELIVERIES_SENT,
    "retried": m.DELIVERIES_RETRIED,
    "failed": m.DELIVERIES_FAILED,
}


class WorkflowCollector(Collector):
    """Follow-ups by status, overdue, and deliveries pending and failed per channel."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow

    def collect(self) -> Iterator[Metric]:
        counts = self.workflow.dashboard()
        by_status = GaugeMetricFamily("ied_follow_ups", "Follow-ups by status.", labels=["status"])
        for status in Status:
            by_status.add_metric([status.value], counts[status.value])
        yield by_status
        yield GaugeMetricFamily("ied_follow_ups_overdue", "Open and past due.", counts["overdue"])
        yield GaugeMetricFamily(
            "ied_follow_ups_open_issue", "Issues still open.", counts["open_issue"]
        )
        yield self._deliveries()
        yield from worker_families(self.workflow.alert_figures())

    def _deliveries(self) -> Metric:
        family = GaugeMetricFamily(
            "ied_deliveries", "Alert deliveries pending or failed.", labels=["channel", "status"]
        )
        for (channel, status), n in sorted(self.workflow.delivery_backlog().items()):
            family.add_metric([channel, status], n)
        return family

    def describe(self) -> Iterator[Metric]:
        return iter(())  # no database query when the collector is registered


def worker_families(figures: AlertFigures) -> Iterator[Metric]:
    """The worker side: alerts written, delivery results per channel, scans, the oldest wait."""
    written = CounterMetricFamily(
        "ied_alerts_written", "Alerts recorded, by kind.", labels=["kind"]
    )
    for kind, n in sorted(figures.written.items()):
        written.add_metric([kind], n)
    yield written
    results = CounterMetricFamily(
        "ied_delivery_results",
        "Delivery attempts by channel and outcome (sent; failed and retried; failed for good).",
        labels=["channel", "outcome"],
    )
    measured = figures.measured
    for (name, channel), value in sorted(measured.items()):
        outcome = next((o for o, n in OUTCOMES.items() if n == name), None)
        if outcome is not None:
            results.add_metric([channel, outcome], value)
    yield results
    yield SummaryMetricFamily(
        "ied_overdue_scan_duration_seconds",
        "Overdue scans run by the workers, and their total time.",
        count_value=int(measured.get((m.SCANS, ""), 0)),
        sum_value=measured.get((m.SCAN_SECONDS, ""), 0),
    )
    for name, key, help_text in (
        ("ied_overdue_scan_last_duration_seconds", m.SCAN_LAST_SECONDS, "The last scan's time."),
        ("ied_overdue_scan_last_alerts", m.SCAN_LAST_ALERTS, "Alerts the last scan wrote."),
        ("ied_overdue_scan_last_run_timestamp_seconds", m.SCAN_LAST_AT, "When the last scan ran."),
    ):
        if (key, "") in measured:
            yield GaugeMetricFamily(name, help_text, measured[(key, "")])
    yield GaugeMetricFamily(
        "ied_oldest_pending_alert_age_seconds",
        "How long the oldest alert not yet delivered on some channel has waited (0: none).",
        figures.oldest_pending_seconds,
    )


def registry_for(workflow: Workflow) -> tuple[CollectorRegistry, Histogram]:
    """A registry with the workflow collector and the request-latency histogram."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkflowCollector(workflow))
    latency = Histogram(
        "ied_http_request_duration_seconds",
        "HTTP request latency.",
        ["method", "route", "status"],
        registry=registry,
    )
    return registry, latency
