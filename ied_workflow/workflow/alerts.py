"""The Python API's alert calls: the overdue scan, the digest, dispatch and the outbox views."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ied_workflow import validation
from ied_workflow.alerts import deliveries, measurements, overdue, record
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.follow_ups import queries
from ied_workflow.workflow.base import WorkflowBase

if TYPE_CHECKING:
    from ied_workflow.alerts.channels import Channel
    from ied_workflow.alerts.dispatch import DispatchResult

log = logging.getLogger("ied_workflow.workflow")

# The digest's figures, named as the alert shows them, from the dashboard counts.
DIGEST_FIGURES = {
    "due_today": "due_today",
    "overdue": "overdue",
    "in_progress": "in_progress",
    "open_issues": "open_issue",
}


@dataclass(frozen=True, slots=True)
class AlertFigures:
    """What /metrics says about alerts: written per kind, worker counters, the oldest wait."""

    written: dict[str, int]
    measured: dict[tuple[str, str], float]
    oldest_pending_seconds: float  # 0 when nothing waits


class AlertCalls(WorkflowBase):
    """Alerts: recorded by scans and use cases, delivered by the dispatcher."""

    def scan_overdue(self, now: datetime | None = None) -> overdue.ScanResult:
        """Record the overdue alerts owed now; safe to run twice or concurrently."""
        every = timedelta(hours=self.settings.overdue_reminder_hours)
        size = self.settings.scan_batch_size
        started = time.monotonic()

        def scan_and_measure(uow: UnitOfWork) -> tuple[overdue.ScanResult, float]:
            # The figures join the scan's transaction: a scan runs every few seconds, and a
            # second COMMIT (an fsync) for them would cost as much as a repeat scan itself.
            result = overdue.scan(uow, reminder_every=every, batch_size=size)
            seconds = time.monotonic() - started
            measurements.record_scan(uow, result.alerts_written, seconds)
            return result, seconds

        result, seconds = self.run(scan_and_measure, now=now)
        # A scan runs every few seconds: one that wrote nothing is a DEBUG line, not noise.
        log.log(
            logging.INFO if result.alerts_written else logging.DEBUG,
            "overdue scan: %d alert(s) written in %d batch(es), %.3f s",
            result.alerts_written,
            result.batches,
            seconds,
            extra={"alerts_written": result.alerts_written, "duration_seconds": seconds},
        )
        return result

    def send_digest(self, now: datetime | None = None) -> int:
        """Record today's digest of counts (once per local day); returns alerts written."""
        zone = self.settings.zone

        def digest(uow: UnitOfWork) -> int:
            counts = queries.dashboard_counts(uow.conn, uow.now, zone)
            figures = {name: counts[source] for name, source in DIGEST_FIGURES.items()}
            figures["failed_alerts"] = deliveries.failed_alerts(uow)  # seen without a CLI
            return record.digest(uow, uow.now.astimezone(zone).date().isoformat(), figures)

        return self.run(digest, now=now)

    def dispatch(
        self, channels: Mapping[str, Channel] | None = None, *, now: datetime | None = None
    ) -> DispatchResult:
        """Deliver pending alerts on `channels` (default: those configured in settings)."""
        # Loaded by the calls that send (Slack, SMTP, Jinja2): the CLI's start stays fast.
        from ied_workflow.alerts.channels import channels_from_settings
        from ied_workflow.alerts.dispatch import dispatch

        if channels is None:
            channels = channels_from_settings(self.settings)
        return dispatch(self.db, channels, self.settings, now=now)

    def notifications(self, status: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        """Deliveries with their alerts, newest first."""
        return self.run(lambda uow: deliveries.find(uow, status, limit=limit))

    def undelivered_alerts(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Alerts that no dispatcher has fanned out to a channel yet."""
        return self.run(lambda uow: deliveries.undelivered(uow, limit=limit))

    def retry_notification(self, delivery_id: int, *, now: datetime | None = None) -> None:
        """Put a failed delivery back in line for an immediate attempt."""
        delivery_id = validation.positive_id(delivery_id)
        self.run(lambda uow: deliveries.retry(uow, delivery_id), now=now)

    def delivery_backlog(self) -> dict[tuple[str, str], int]:
        """Pending and failed deliveries per (channel, status); zeros for configured channels."""
        from ied_workflow.alerts.channels import channels_from_settings  # not at start-up either

        counts = self.run(deliveries.backlog)
        for channel in channels_from_settings(self.settings):
            for status in (deliveries.PENDING, deliveries.FAILED):
                counts.setdefault((channel, status), 0)
        return counts

    def alert_figures(self) -> AlertFigures:
        """Alerts written, worker counters and the oldest pending alert's age, in one read."""

        def read(uow: UnitOfWork) -> AlertFigures:
            oldest = deliveries.oldest_pending_at(uow)
            age = 0.0 if oldest is None else max(0.0, (uow.now - oldest).total_seconds())
            return AlertFigures(deliveries.written(uow), measurements.read(uow), age)

        return self.run(read)
