"""The Python API: each call is one unit of work on the configured database.

    wf = Workflow.from_settings()
    follow_up = wf.create("L-100", by="ops@ied.example")
    wf.log_contact(follow_up.id, by="ops@ied.example", outcome="reached_customer")

The CLI, the Celery tasks and the HTTP API all call these methods. `now=` fixes the
clock for one call (replays, `--now`, tests); otherwise the database's clock is read.
A worker passes `dispatch_soon`, which runs after any commit that recorded an alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, literal, select

from config.settings import Settings, get_settings
from ied_workflow import accounts, audit, measurements, queries, repository, service, validation
from ied_workflow.alerts import deliveries, overdue, record
from ied_workflow.alerts.channels import Channel, channels_from_settings
from ied_workflow.alerts.dispatch import DispatchResult, dispatch
from ied_workflow.clock import Clock
from ied_workflow.db import make_engine
from ied_workflow.domain import ContactAttempt, Event, FollowUp, Lead, Outcome
from ied_workflow.errors import NotFound
from ied_workflow.unit_of_work import Database, UnitOfWork

R = TypeVar("R")
log = logging.getLogger(__name__)
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


class Workflow:
    """The follow-up workflow bound to one database."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock | None = None,
        dispatch_soon: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.db = Database(engine, clock, dispatch_soon)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **engine_options: Any) -> Workflow:
        settings = settings or get_settings()
        return cls(make_engine(settings.database_url, **engine_options), settings)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def run(self, work: Callable[[UnitOfWork], R], *, now: datetime | None = None) -> R:
        """Run `work` as one unit of work (for use cases composed by the caller)."""
        return self.db.run(work, now=now)

    def now(self) -> datetime:
        """The clock's current instant (the database's, unless a clock was given)."""
        return self.run(lambda uow: uow.now)

    def upsert_lead(
        self,
        lead_id: str,
        *,
        status: str,
        installer_id: str | None = None,
        now: datetime | None = None,
    ) -> Lead:
        return self.run(
            lambda uow: service.upsert_lead(uow, lead_id, status=status, installer_id=installer_id),
            now=now,
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
        return self.run(
            lambda uow: service.create(
                uow,
                lead_id,
                by=by,
                due_at=due_at,
                notes=notes,
                eligible_statuses=rules.eligible_lead_statuses,
                default_due=timedelta(days=rules.default_due_days),
            ),
            now=now,
        )

    def start(
        self,
        follow_up_id: int,
        *,
        by: str,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        return self.run(
            lambda uow: service.start(uow, follow_up_id, by=by, expected_version=expected_version),
            now=now,
        )

    def log_contact(
        self,
        follow_up_id: int,
        *,
        by: str,
        outcome: str,
        at: datetime | None = None,
        note: str | None = None,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        return self.run(
            lambda uow: service.log_contact(
                uow,
                follow_up_id,
                by=by,
                outcome=outcome,
                at=at,
                note=note,
                expected_version=expected_version,
            ),
            now=now,
        )

    def record_outcome(
        self,
        follow_up_id: int,
        *,
        by: str,
        outcome: Outcome,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        return self.run(
            lambda uow: service.record_outcome(
                uow, follow_up_id, by=by, outcome=outcome, expected_version=expected_version
            ),
            now=now,
        )

    def resolve_issue(
        self,
        follow_up_id: int,
        *,
        by: str,
        note: str | None = None,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        return self.run(
            lambda uow: service.resolve_issue(
                uow, follow_up_id, by=by, note=note, expected_version=expected_version
            ),
            now=now,
        )

    def reschedule(
        self,
        follow_up_id: int,
        *,
        due_at: datetime,
        by: str,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        return self.run(
            lambda uow: service.reschedule(
                uow, follow_up_id, due_at=due_at, by=by, expected_version=expected_version
            ),
            now=now,
        )

    def add_note(
        self,
        follow_up_id: int,
        *,
        text: str,
        by: str,
        expected_version: int | None = None,
        now: datetime | None = None,
    ) -> FollowUp:
        return self.run(
            lambda uow: service.add_note(
                uow, follow_up_id, text=text, by=by, expected_version=expected_version
            ),
            now=now,
        )

    def get(self, follow_up_id: int) -> FollowUp:
        follow_up_id = validation.positive_id(follow_up_id)
        return self.run(lambda uow: repository.get(uow.conn, follow_up_id))

    def get_by_lead(self, lead_id: str) -> FollowUp:
        """The one follow-up of a lead; NotFound when it has none."""
        lead_id = validation.identifier(lead_id, "lead id")

        def find(uow: UnitOfWork) -> FollowUp:
            follow_up_id = repository.follow_up_id_of_lead(uow.conn, lead_id)
            if follow_up_id is None:
                raise NotFound(f"lead {lead_id} has no follow-up")
            return repository.get(uow.conn, follow_up_id)

        return self.run(find)

    def lead(self, lead_id: str) -> Lead:
        lead_id = validation.identifier(lead_id, "lead id")
        return self.run(lambda uow: repository.get_lead(uow.conn, lead_id))

    def history(self, follow_up_id: int) -> tuple[list[Event], list[ContactAttempt]]:
        follow_up_id = validation.positive_id(follow_up_id)
        return self.run(
            lambda uow: (
                repository.history(uow.conn, follow_up_id),
                repository.contact_attempts(uow.conn, follow_up_id),
            )
        )

    def find(
        self,
        where: queries.Filter,
        now: datetime | None = None,
        *,
        limit: int = 100,
        after: tuple[datetime, int] | None = None,
    ) -> list[FollowUp]:
        """Follow-ups matching `where`, soonest due first, after the keyset (dueAt, id)."""
        zone = self.settings.zone
        return self.run(
            lambda uow: queries.find(uow.conn, where, uow.now, zone, limit=limit, after=after),
            now=now,
        )

    def count(
        self, where: queries.Filter, now: datetime | None = None, *, cap: int | None = None
    ) -> int:
        zone = self.settings.zone
        return self.run(lambda uow: queries.count(uow.conn, where, uow.now, zone, cap=cap), now=now)

    def dashboard(self, now: datetime | None = None, *, cap: int | None = None) -> dict[str, int]:
        """Each dashboard filter's count; with `cap`, counting stops at cap + 1."""
        zone = self.settings.zone
        return self.run(
            lambda uow: queries.dashboard_counts(uow.conn, uow.now, zone, cap=cap), now=now
        )

    def ping(self) -> None:
        """Ask the database one trivial question; raises if it cannot answer."""
        self.run(lambda uow: uow.conn.execute(select(literal(1))).scalar_one())

    def audit(self) -> list[audit.Mismatch]:
        """Every follow-up whose stored fields disagree with its history."""
        return self.run(lambda uow: list(audit.verify(uow.conn)))

    # Alerts

    def scan_overdue(self, now: datetime | None = None) -> overdue.ScanResult:
        """Record the overdue alerts owed now; safe to run twice or concurrently."""
        every = timedelta(hours=self.settings.overdue_reminder_hours)
        size = self.settings.scan_batch_size
        started = time.monotonic()
        result = self.run(
            lambda uow: overdue.scan(uow, reminder_every=every, batch_size=size), now=now
        )
        seconds = time.monotonic() - started
        self.run(lambda uow: measurements.record_scan(uow, result.alerts_written, seconds), now=now)
        log.info(
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

    # Accounts (who may call the HTTP API)

    def add_user(self, email: str, *, role: str, password: str | None = None) -> accounts.User:
        """Create a user; the password (if any) is hashed before the transaction opens."""
        hashed = None if password is None else accounts.hash_password(password)
        return self.run(lambda uow: accounts.add_user(uow, email, role=role, password_hash=hashed))

    def users(self) -> list[accounts.User]:
        return self.run(accounts.users)

    def disable_user(self, email: str) -> accounts.User:
        return self.run(lambda uow: accounts.disable_user(uow, email))

    def create_token(self, email: str, *, name: str | None = None) -> accounts.NewToken:
        return self.run(lambda uow: accounts.create_token(uow, email, name=name))

    def tokens(self) -> list[accounts.ApiToken]:
        return self.run(accounts.tokens)

    def revoke_token(self, token_id: int) -> accounts.ApiToken:
        return self.run(lambda uow: accounts.revoke_token(uow, token_id))

    def sign_in(self, email: str, password: str) -> accounts.Principal:
        """The user an email and password speak for (argon2 runs after the transaction)."""
        found = self.run(lambda uow: accounts.credentials(uow, email))
        return accounts.sign_in(found, password)

    def session_user(self, user_id: int) -> accounts.Principal:
        """The enabled user a console session names; raises Unauthenticated otherwise."""
        return self.run(lambda uow: accounts.session_user(uow, user_id))

    def authenticate(self, token: str) -> accounts.Principal:
        """The user a bearer token speaks for; raises Unauthenticated otherwise."""
        return self.run(lambda uow: accounts.authenticate(uow, token))
