"""The Python API: each call is one unit of work on the configured database.

    wf = Workflow.from_settings()
    follow_up = wf.create("L-100", by="ops@ied.example")
    wf.log_contact(follow_up.id, by="ops@ied.example", outcome="reached_customer")

The CLI, the Celery tasks and the HTTP API all call these methods. `now=` fixes the
clock for one call (replays, `--now`, tests); otherwise the database's clock is read.
A worker passes `dispatch_soon`, which runs after any commit that recorded an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import literal, select

from ied_workflow import audit, queries, repository, service, validation
from ied_workflow.account_calls import AccountCalls
from ied_workflow.alert_calls import AlertCalls
from ied_workflow.domain import ContactAttempt, Event, FollowUp, Lead, Outcome
from ied_workflow.errors import NotFound
from ied_workflow.unit_of_work import UnitOfWork


class Workflow(AlertCalls, AccountCalls):
    """The follow-up workflow bound to one database: follow-ups here, alerts and accounts
    from their parts (`alert_calls`, `account_calls`), all on `Facade`'s units of work."""

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
