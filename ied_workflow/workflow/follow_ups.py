"""The Python API's follow-up calls: leads, the contract's actions, reads and lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import literal, select

from ied_workflow import validation
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import ContactAttempt, Event, FollowUp, Lead, Outcome
from ied_workflow.errors import NotFound
from ied_workflow.follow_ups import history, queries, repository, use_cases
from ied_workflow.follow_ups.history import Mismatch
from ied_workflow.workflow.base import WorkflowBase


class FollowUpCalls(WorkflowBase):
    """Follow-ups: open one for a delivered lead, act on it, read and list them."""

    def upsert_lead(
        self,
        lead_id: str,
        *,
        status: str,
        installer_id: str | None = None,
        now: datetime | None = None,
    ) -> Lead:
        return self.run(
            lambda uow: use_cases.upsert_lead(
                uow, lead_id, status=status, installer_id=installer_id
            ),
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
            lambda uow: use_cases.create(
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
            lambda uow: use_cases.start(
                uow, follow_up_id, by=by, expected_version=expected_version
            ),
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
            lambda uow: use_cases.log_contact(
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
            lambda uow: use_cases.record_outcome(
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
            lambda uow: use_cases.resolve_issue(
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
            lambda uow: use_cases.reschedule(
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
            lambda uow: use_cases.add_note(
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
        return self.run(lambda uow: repository.get_lead(uow, lead_id))

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

    def audit(self) -> list[Mismatch]:
        """Every follow-up whose stored fields disagree with its history."""
        return self.run(lambda uow: list(history.verify(uow.conn)))
