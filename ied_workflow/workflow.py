"""The Python API: each call is one transaction on the configured database.

    wf = Workflow.from_settings()
    follow_up = wf.create("L-100", by="ops@ied.example")
    wf.log_contact(follow_up.id, by="ops@ied.example", outcome="reached_customer")

Calls that write outbox rows tell `on_outbox_write` after the commit, so a worker
can dispatch at once; the dispatcher's periodic run catches anything missed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from config.settings import Settings, get_settings
from ied_workflow import outbox, queries, repository, service, validation
from ied_workflow.db import make_engine
from ied_workflow.domain import ContactAttempt, Event, FollowUp, Lead, Outcome
from ied_workflow.errors import ConcurrentModification
from ied_workflow.notify.channels import channels_from_settings

P = ParamSpec("P")
R = TypeVar("R")
# The digest's figures, named as the alert shows them, from the dashboard counts.
DIGEST_FIGURES = {
    "due_today": "due_today",
    "overdue": "overdue",
    "in_progress": "in_progress",
    "open_issues": "open_issue",
}
ATTEMPTS = 5  # a lost optimistic-lock race or a deadlock is retried this many times


def alert_channels(settings: Settings) -> list[str]:
    """The names of the channels alerts go to (the rule lives in notify.channels)."""
    return list(channels_from_settings(settings))


class Workflow:
    """The follow-up workflow bound to one database."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        on_outbox_write: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.on_outbox_write = on_outbox_write

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **engine_options: Any) -> Workflow:
        settings = settings or get_settings()
        return cls(make_engine(settings.database_url, **engine_options), settings)

    def transaction(self, work: Callable[[Connection], R]) -> R:
        """Run `work` in one transaction, retrying lost races; commit or roll back.

        A connection lost before COMMIT rolled everything back, so the work is run
        again on a fresh connection (this replaces a ping per checkout); a connection
        lost during COMMIT may or may not have committed, so that error is raised.
        """
        for attempt in range(1, ATTEMPTS + 1):
            committing = False
            try:
                with self.engine.connect() as conn, conn.begin():
                    result = work(conn)
                    committing = True
                return result
            except ConcurrentModification:
                if attempt == ATTEMPTS:
                    raise
            except DBAPIError as exc:
                if attempt == ATTEMPTS or not _is_retryable(exc, committing):
                    raise
        raise AssertionError("unreachable")

    def upsert_lead(self, lead_id: str, *, status: str, installer_id: str | None = None) -> Lead:
        return self.transaction(
            lambda c: service.upsert_lead(c, lead_id, status=status, installer_id=installer_id)
        )

    def create(
        self,
        lead_id: str,
        *,
        by: str,
        due_at: datetime | None = None,
        notes: str | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        rules = self.settings
        return self.transaction(
            lambda c: service.create(
                c,
                lead_id,
                by=by,
                due_at=due_at,
                notes=notes,
                now=now,
                eligible_statuses=rules.eligible_lead_statuses,
                default_due=timedelta(days=rules.default_due_days),
            )
        )

    def start(self, follow_up_id: int, *, by: str, now: datetime | None = None) -> FollowUp:
        return self.transaction(lambda c: service.start(c, follow_up_id, by=by, now=now))

    def log_contact(
        self,
        follow_up_id: int,
        *,
        by: str,
        outcome: str,
        at: datetime | None = None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        return self.transaction(
            lambda c: service.log_contact(
                c, follow_up_id, by=by, outcome=outcome, at=at, note=note, now=now
            )
        )

    def record_outcome(
        self, follow_up_id: int, *, by: str, outcome: Outcome, now: datetime | None = None
    ) -> FollowUp:
        channels = alert_channels(self.settings)
        follow_up = self.transaction(
            lambda c: service.record_outcome(
                c, follow_up_id, by=by, outcome=outcome, alert_channels=channels, now=now
            )
        )
        if follow_up.status == "closed_with_issue":
            self._outbox_written()
        return follow_up

    def resolve_issue(self, follow_up_id: int, *, by: str, now: datetime | None = None) -> FollowUp:
        return self.transaction(lambda c: service.resolve_issue(c, follow_up_id, by=by, now=now))

    def reschedule(
        self, follow_up_id: int, *, due_at: datetime, by: str, now: datetime | None = None
    ) -> FollowUp:
        return self.transaction(
            lambda c: service.reschedule(c, follow_up_id, due_at=due_at, by=by, now=now)
        )

    def add_note(
        self, follow_up_id: int, *, text: str, by: str, now: datetime | None = None
    ) -> FollowUp:
        return self.transaction(
            lambda c: service.add_note(c, follow_up_id, text=text, by=by, now=now)
        )

    def get(self, follow_up_id: int) -> FollowUp:
        follow_up_id = validation.positive_id(follow_up_id)
        return self.transaction(lambda c: repository.get(c, follow_up_id))

    def lead(self, lead_id: str) -> Lead:
        lead_id = validation.identifier(lead_id, "lead id")
        return self.transaction(lambda c: repository.get_lead(c, lead_id))

    def history(self, follow_up_id: int) -> tuple[list[Event], list[ContactAttempt]]:
        follow_up_id = validation.positive_id(follow_up_id)
        return self.transaction(
            lambda c: (
                repository.history(c, follow_up_id),
                repository.contact_attempts(c, follow_up_id),
            )
        )

    def find(self, where: queries.Filter, now: datetime, *, limit: int = 100) -> list[FollowUp]:
        zone = self.settings.zone
        return self.transaction(lambda c: queries.find(c, where, now, zone, limit=limit))

    def count(self, where: queries.Filter, now: datetime, *, cap: int | None = None) -> int:
        zone = self.settings.zone
        return self.transaction(lambda c: queries.count(c, where, now, zone, cap=cap))

    def dashboard(self, now: datetime) -> dict[str, int]:
        return self.transaction(lambda c: queries.dashboard_counts(c, now, self.settings.zone))

    def scan_overdue(self, now: datetime) -> outbox.ScanResult:
        """Write the overdue alerts due at `now`; safe to run twice or concurrently."""
        s = self.settings
        result = self.transaction(
            lambda c: outbox.scan_overdue(
                c,
                alert_channels(s),
                now,
                batch_size=s.scan_batch_size,
                reminder_every=timedelta(hours=s.overdue_reminder_hours),
            )
        )
        if result.alerts_written:
            self._outbox_written()
        return result

    def send_digest(self, now: datetime) -> int:
        """Queue today's digest of counts (once per local day); returns rows written."""
        day = now.astimezone(self.settings.zone).date().isoformat()

        def queue(conn: Connection) -> int:
            counts = queries.dashboard_counts(conn, now, self.settings.zone)
            figures = {name: counts[source] for name, source in DIGEST_FIGURES.items()}
            return outbox.digest(conn, alert_channels(self.settings), now, day, figures)

        written = self.transaction(queue)
        if written:
            self._outbox_written()
        return written

    def _outbox_written(self) -> None:
        if self.on_outbox_write is not None:
            self.on_outbox_write()


def _is_retryable(exc: DBAPIError, committing: bool) -> bool:
    """Deadlocks, serialisation failures, SQLite lock timeouts; lost connections before COMMIT."""
    code = getattr(exc.orig, "sqlstate", None)
    if code in ("40001", "40P01") or "database is locked" in str(exc.orig):
        return True
    return exc.connection_invalidated and not committing
