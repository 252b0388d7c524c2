"""Prometheus metrics: the workflow's state, read at scrape time, and request latency.

Each app has its own registry, so tests and several apps in one process never clash.
The follow-up and delivery figures are read from the database on each scrape (one
dashboard query set and one grouped count), never kept in the process, so every
worker process reports the same truth.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ied_workflow.domain import Status
from ied_workflow.workflow import Workflow


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

    def _deliveries(self) -> Metric:
        family = GaugeMetricFamily(
            "ied_deliveries", "Alert deliveries pending or failed.", labels=["channel", "status"]
        )
        for (channel, status), n in sorted(self.workflow.delivery_backlog().items()):
            family.add_metric([channel, status], n)
        return family

    def describe(self) -> Iterator[Metric]:
        return iter(())  # no database query when the collector is registered


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
