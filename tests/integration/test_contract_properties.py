"""Property-based contract check: random operation sequences over the Workflow API.

A hypothesis state machine creates follow-ups and works them with every operation of the
API, valid and invalid inputs alike, on SQLite and on PostgreSQL (a fresh database for
each example). It keeps a model of what the contract says each follow-up must be, and
after every step checks:

- every refused operation raised the typed error the model expects and wrote nothing;
- every accepted one changed exactly what the model says (status, contact summary,
  issue fields, notes byte for byte);
- the contract invariants hold (see `tests/support/contract_invariants.py`): completed
  implies a reached contact, a satisfaction outcome and no open issue; closed_with_issue
  implies a reached contact and an issue open at closing; terminal states stay terminal;
  the contact count equals the attempt rows; `audit.verify` finds nothing;
- the lead rows never change.

The example budget is fixed and derandomized, so CI runs the same sequences every time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as budget
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, delete

from config.settings import Settings
from ied_workflow.db import engines, tables
from ied_workflow.domain import FollowUp, Outcome, Satisfaction
from ied_workflow.errors import (
    DuplicateFollowUp,
    GuardFailed,
    IedWorkflowError,
    LeadNotEligible,
    NotFound,
    TransitionNotAllowed,
    ValidationError,
)
from ied_workflow.workflow import Workflow
from tests.support.contract_invariants import read_all, violations
from tests.support.data import NOW
from tests.support.database import snapshot

pytestmark = pytest.mark.postgres

BUDGET = budget(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    # No shrinking: a failure is reported within the budget, its steps printed in full.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NOTE_MAX, SUMMARY_MAX, NOTES_TOTAL_MAX = 4000, 2000, 64_000  # the contract's text limits
CLOCK_SKEW = timedelta(minutes=5)
ELIGIBLE = [f"L-{n}" for n in range(8)]  # assigned, with an installer
LEADS = [
    *((lead, "assigned", f"I-{n % 3}") for n, lead in enumerate(ELIGIBLE)),
    ("L-new", "new", "I-9"),  # lifecycle status not eligible
    ("L-lost", "lost", None),
    ("L-noinst", "assigned", None),  # eligible status, but no installer
]
ALL_LEAD_IDS = [lead for lead, _, _ in LEADS]
UNKNOWN_ID = 10**9  # a well-formed follow-up id that never exists here


# --- labelled inputs: (value, valid) so that the model never re-implements validation --

VALID_EMAIL = "ops@ied.example"
VALID_BY = st.sampled_from([VALID_EMAIL, "anna.berg@ied.example", "x+night@ops.ied.example"])
INVALID_BY = st.sampled_from(
    ["", "not-an-email", "ops@", "@ied.example", "a b@ied.example", "ops\x00@ied.example"]
)
BY = st.one_of(VALID_BY.map(lambda v: (v, True)), INVALID_BY.map(lambda v: (v, False)))


CLEAN_TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\t <>&'\";"),
    max_size=30,
)
DIRTY_TEXT = st.one_of(
    st.tuples(CLEAN_TEXT, st.sampled_from("\x00\r\x1b\x7f\x85\x0b\u0007"), CLEAN_TEXT).map("".join),
    st.just("x" * (NOTE_MAX + 1)),
    st.just("a\r\nb"),
)
# Optional text: None, empty (means "none"), clean, or refused.
OPTIONAL_TEXT = st.one_of(
    st.just((None, True)),
    st.just(("", True)),
    CLEAN_TEXT.map(lambda v: (v, True)),
    DIRTY_TEXT.map(lambda v: (v, False)),
)
CONTACT_OUTCOMES = ["attempted", "left_message", "no_response", "reached_customer"]
CONTACT_OUTCOME = st.one_of(
    st.sampled_from(CONTACT_OUTCOMES).map(lambda v: (v, True)),
    st.sampled_from(CONTACT_OUTCOMES).map(lambda v: (v, True)),
    st.sampled_from(
        ["", "reached", "REACHED_CUSTOMER", "completed", "satisfied", "reached_customer "]
    ).map(lambda v: (v, False)),
)
SATISFACTION = st.one_of(
    st.none(),
    st.sampled_from(list(Satisfaction)),
    st.sampled_from(["satisfied", "mixed", "unsatisfied"]),
    st.sampled_from(["", "happy", "SATISFIED", "completed"]),
)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=9))])


@dataclass(frozen=True)
class When:
    """A datetime relative to the step's clock: aware in some zone, or naive (refused)."""

    minutes: int
    zone: timezone | None

    def at(self, clock: datetime) -> datetime:
        moment = clock + timedelta(minutes=self.minutes)
        return moment.replace(tzinfo=None) if self.zone is None else moment.astimezone(self.zone)


DUE_AT = st.builds(When, st.integers(-60 * 24 * 30, 60 * 24 * 90), ZONES | st.none())
DUE = st.none() | DUE_AT
CONTACT_AT = st.one_of(
    st.none(), st.builds(When, st.integers(-60 * 24 * 10, 30), ZONES | st.none())
)


@dataclass(frozen=True)
class Ref:
    """Which follow-up an operation names: one that exists, or a bad id."""

    index: int | None = None
    raw: Any = None


REF = st.one_of(
    st.integers(0, 50).map(lambda i: Ref(index=i)),
    st.integers(0, 50).map(lambda i: Ref(index=i)),
    st.sampled_from([UNKNOWN_ID, 2**63 - 1]).map(lambda v: Ref(raw=v)),
    st.sampled_from([0, -1, -(2**63), 2**63, 10**30, True, "1", 1.0, None]).map(
        lambda v: Ref(raw=v)
    ),
)


# Sane inputs: well-formed values, so that sequences get far (guards may still refuse).
Labelled = tuple[Any, bool]
SANE_BY = VALID_BY.map(lambda v: (v, True))
SANE_TEXT = st.one_of(st.just((None, True)), CLEAN_TEXT.map(lambda v: (v, True)))
NOT_BLANK = st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))
SANE_NOTE = st.tuples(CLEAN_TEXT, NOT_BLANK).map(lambda v: ("".join(v), True))
SANE_REF = st.integers(0, 50).map(lambda i: Ref(index=i))
SANE_DUE_AT = st.builds(When, st.integers(-60 * 24 * 30, 60 * 24 * 90), ZONES)
SANE_DUE = st.none() | SANE_DUE_AT
SANE_AT = st.one_of(st.none(), st.builds(When, st.integers(-60 * 24 * 10, 5), ZONES))
SANE_CONTACT = st.sampled_from([*CONTACT_OUTCOMES, "reached_customer", "reached_customer"]).map(
    lambda v: (v, True)
)
SUMMARY = st.tuples(NOT_BLANK, CLEAN_TEXT).map(lambda v: ("".join(v), True))
# (has_issue, satisfaction, summary, resolved, referral): the shapes staff really record.
Shape = tuple[bool | None, Any, Labelled, bool, bool]
SANE_OUTCOME = st.one_of(
    st.tuples(
        st.just(False), st.sampled_from(list(Satisfaction)), st.just((None, True)),
        st.just(False), st.booleans(),
    ),
    st.tuples(
        st.just(True), st.sampled_from([None, *Satisfaction]), SUMMARY,
        st.sampled_from([False, False, True]), st.booleans(),
    ),
)  # fmt: skip


# Any input, hostile included, for each operation (the arguments of its `_operation`).
ANY_INPUT: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "create": {
        "lead": st.sampled_from([*ALL_LEAD_IDS, "L-404", "", "L 1", "x" * 65]),
        "by": BY,
        "due": DUE,
        "notes": OPTIONAL_TEXT,
    },
    "start": {"ref": REF, "by": BY},
    "log_contact": {
        "ref": REF,
        "by": BY,
        "outcome": CONTACT_OUTCOME,
        "at": CONTACT_AT,
        "note": OPTIONAL_TEXT,
    },
    "record_outcome": {
        "ref": REF,
        "by": BY,
        "has_issue": st.sampled_from([None, True, False]),
        "satisfaction": SATISFACTION,
        "summary": st.one_of(
            OPTIONAL_TEXT, st.just(("  \n", True)), st.just(("x" * (SUMMARY_MAX + 1), False))
        ),
        "resolved": st.booleans(),
        "referral": st.booleans(),
        "notes": OPTIONAL_TEXT,
    },
    "resolve_issue": {"ref": REF, "by": BY},
    "reschedule": {"ref": REF, "by": BY, "due": DUE_AT},
    "add_note": {
        "ref": REF,
        "by": BY,
        "note": st.one_of(OPTIONAL_TEXT, st.just((" \t\n", True)), st.just(("y" * NOTE_MAX, True))),
    },
}


# --- the model ----------------------------------------------------------------------


@dataclass
class Model:
    """One follow-up as the contract says it must be."""

    id: int
    lead_id: str
    due_at: datetime
    status: str = "pending"
    started_at: datetime | None = None
    attempts: list[tuple[datetime, str, str]] = field(default_factory=list)  # at, by, outcome
    has_issue: bool | None = None
    issue_summary: str | None = None
    issue_resolved: bool = False
    satisfaction: str | None = None
    referral: bool = False
    notes: str | None = None

    @property
    def reached(self) -> bool:
        return any(outcome == "reached_customer" for _, _, outcome in self.attempts)

    def last_attempt(self) -> tuple[datetime, str, str] | None:
        # The latest by time; among equal times the one logged last.
        ordered = sorted(enumerate(self.attempts), key=lambda pair: (pair[1][0], pair[0]))
        return ordered[-1][1] if ordered else None

    def appended(self, note: str) -> str:
        return note if not self.notes else f"{self.notes}\n{note}"


Expected = set[type[IedWorkflowError]]


def _validation(*checks: bool) -> Expected:
    """ValidationError when any input check failed."""
    return {ValidationError} if not all(checks) else set()


class ContractMachine(RuleBasedStateMachine):
    """Random operations on one fresh database, checked against the model each step."""

    def __init__(self, engine: Engine, workflow_settings: Settings) -> None:
        super().__init__()
        self.engine = engine
        self.wf = Workflow(engine, workflow_settings)
        self.clock = NOW
        self.models: dict[int, Model] = {}
        self.ids: list[int] = []
        self.leads_before: list[tuple[Any, ...]] = []
        self.rows: dict[str, list[tuple[Any, ...]]] | None = None  # every row, as last seen

    # --- setup ---

    @initialize()
    def fresh_database_with_leads(self) -> None:
        _empty(self.engine)
        for lead_id, status, installer in LEADS:
            self.wf.upsert_lead(lead_id, status=status, installer_id=installer)
        self.leads_before = snapshot(self.engine)["leads"]
        self._create(ELIGIBLE[0], (VALID_EMAIL, True), None, (None, True))

    # --- rules: each operation with sane inputs; one more rule with any input ---

    @rule(lead=st.sampled_from(ELIGIBLE[:3]), by=SANE_BY, due=SANE_DUE, notes=SANE_TEXT)
    def create(self, lead: str, by: Labelled, due: When | None, notes: Labelled) -> None:
        self._create(lead, by, due, notes)

    @rule(ref=SANE_REF, by=SANE_BY)
    def start(self, ref: Ref, by: Labelled) -> None:
        self._start(ref, by)

    @rule(ref=SANE_REF, by=SANE_BY, outcome=SANE_CONTACT, at=SANE_AT, note=SANE_TEXT)
    def log_contact(
        self, ref: Ref, by: Labelled, outcome: Labelled, at: When | None, note: Labelled
    ) -> None:
        self._log_contact(ref, by, outcome, at, note)

    @rule(ref=SANE_REF, by=SANE_BY, shape=SANE_OUTCOME, notes=SANE_TEXT)
    def record_outcome(self, ref: Ref, by: Labelled, shape: Shape, notes: Labelled) -> None:
        self._record_outcome(ref, by, *shape, notes)

    @rule(ref=SANE_REF, by=SANE_BY, shape=SANE_OUTCOME, notes=SANE_TEXT)
    def reach_customer_then_record_outcome(
        self, ref: Ref, by: Labelled, shape: Shape, notes: Labelled
    ) -> None:
        """The common real sequence, so that sequences reach the terminal states often."""
        self._log_contact(ref, by, ("reached_customer", True), None, (None, True))
        self._record_outcome(ref, by, *shape, notes)

    @rule(ref=SANE_REF, by=SANE_BY)
    def resolve_issue(self, ref: Ref, by: Labelled) -> None:
        self._resolve_issue(ref, by)

    @rule(ref=SANE_REF, by=SANE_BY, due=SANE_DUE_AT)
    def reschedule(self, ref: Ref, by: Labelled, due: When) -> None:
        self._reschedule(ref, by, due)

    @rule(ref=SANE_REF, by=SANE_BY, note=SANE_NOTE)
    def add_note(self, ref: Ref, by: Labelled, note: Labelled) -> None:
        self._add_note(ref, by, note)

    @rule(operation=st.sampled_from(list(ANY_INPUT)), data=st.data())
    def any_input(self, operation: str, data: st.DataObject) -> None:
        """One operation with arguments drawn from everything, hostile values included."""
        method = getattr(self, f"_{operation}")
        method(
            **{
                name: data.draw(strategy, label=name)
                for name, strategy in ANY_INPUT[operation].items()
            }
        )

    # --- the operations, each with the model's expectation ---

    def _create(self, lead: str, by: Labelled, due: When | None, notes: Labelled) -> None:
        due_at = None if due is None else due.at(self.clock)
        expected = _validation(by[1], notes[1], due is None or due.zone is not None)
        if lead not in ALL_LEAD_IDS:
            expected |= {NotFound} if lead == "L-404" else {ValidationError}
        elif lead not in ELIGIBLE:
            expected |= {LeadNotEligible}
        elif any(m.lead_id == lead for m in self.models.values()):
            expected |= {DuplicateFollowUp}
        follow_up = self._attempt(
            expected,
            lambda: self.wf.create(lead, by=by[0], due_at=due_at, notes=notes[0], now=self.clock),
        )
        if follow_up is not None:
            model = Model(
                id=follow_up.id,
                lead_id=lead,
                due_at=due_at or self.clock + timedelta(days=3),
                notes=notes[0] or None,
            )
            self.models[follow_up.id] = model
            self.ids.append(follow_up.id)
            self._same(follow_up, model)

    def _start(self, ref: Ref, by: Labelled) -> None:
        target, model, expected = self._target(ref)
        expected |= _validation(by[1])
        if model is not None and model.status != "pending":
            expected |= {TransitionNotAllowed}
        follow_up = self._attempt(expected, lambda: self.wf.start(target, by=by[0], now=self.clock))
        if follow_up is not None and model is not None:
            model.status, model.started_at = "in_progress", self.clock
            self._same(follow_up, model)

    def _log_contact(
        self, ref: Ref, by: Labelled, outcome: Labelled, at: When | None, note: Labelled
    ) -> None:
        target, model, expected = self._target(ref)
        moment = self.clock if at is None else at.at(self.clock)
        in_time = at is None or (at.zone is not None and at.minutes * 60 <= CLOCK_SKEW.seconds)
        expected |= _validation(by[1], outcome[1], note[1], in_time)
        if model is not None and model.status not in ("pending", "in_progress"):
            expected |= {TransitionNotAllowed}
        follow_up = self._attempt(
            expected,
            lambda: self.wf.log_contact(
                target, by=by[0], outcome=outcome[0], at=moment, note=note[0], now=self.clock
            ),
        )
        if follow_up is not None and model is not None:
            model.status = "in_progress"
            model.started_at = model.started_at or self.clock
            model.attempts.append((moment, by[0], outcome[0]))
            self._same(follow_up, model)

    def _record_outcome(
        self,
        ref: Ref,
        by: Labelled,
        has_issue: bool | None,
        satisfaction: Any,
        summary: Labelled,
        resolved: bool,
        referral: bool,
        notes: Labelled,
    ) -> None:
        target, model, expected = self._target(ref)
        known_satisfaction = satisfaction is None or satisfaction in {s.value for s in Satisfaction}
        expected |= _validation(by[1], known_satisfaction, summary[1], notes[1])
        summary_text = summary[0] or None  # empty text means "no summary"
        issue_open = bool(has_issue) and not resolved
        if model is not None and model.status != "in_progress":
            expected |= {TransitionNotAllowed}
        elif model is not None:
            expected |= self._outcome_refusals(model, has_issue, summary_text, resolved)
            if satisfaction is None and not issue_open:
                expected |= {GuardFailed}  # completing needs a satisfaction outcome
            if notes[0] and len(model.appended(notes[0])) > NOTES_TOTAL_MAX:
                expected |= {ValidationError}
        outcome = Outcome(
            has_issue=has_issue,
            satisfaction=satisfaction,
            issue_summary=summary[0],
            issue_resolved=resolved,
            referral=referral,
            notes=notes[0],
        )
        follow_up = self._attempt(
            expected,
            lambda: self.wf.record_outcome(target, by=by[0], outcome=outcome, now=self.clock),
        )
        if follow_up is not None and model is not None:
            model.status = "closed_with_issue" if issue_open else "completed"
            model.has_issue, model.issue_summary = has_issue, summary_text
            model.issue_resolved, model.referral = resolved, referral
            model.satisfaction = None if satisfaction is None else str(satisfaction)
            model.notes = model.appended(notes[0]) if notes[0] else model.notes
            self._same(follow_up, model)

    def _resolve_issue(self, ref: Ref, by: Labelled) -> None:
        target, model, expected = self._target(ref)
        expected |= _validation(by[1])
        if model is not None and model.status != "closed_with_issue":
            expected |= {TransitionNotAllowed}
        elif model is not None and model.issue_resolved:
            expected |= {GuardFailed}
        follow_up = self._attempt(
            expected, lambda: self.wf.resolve_issue(target, by=by[0], now=self.clock)
        )
        if follow_up is not None and model is not None:
            model.issue_resolved = True
            self._same(follow_up, model)

    def _reschedule(self, ref: Ref, by: Labelled, due: When) -> None:
        target, model, expected = self._target(ref)
        expected |= _validation(by[1], due.zone is not None)
        if model is not None and model.status not in ("pending", "in_progress"):
            expected |= {TransitionNotAllowed}
        due_at = due.at(self.clock)
        follow_up = self._attempt(
            expected,
            lambda: self.wf.reschedule(target, due_at=due_at, by=by[0], now=self.clock),
        )
        if follow_up is not None and model is not None:
            model.due_at = due_at
            self._same(follow_up, model)

    def _add_note(self, ref: Ref, by: Labelled, note: Labelled) -> None:
        target, model, expected = self._target(ref)
        blank = note[0] is None or not note[0].strip()
        expected |= _validation(by[1], note[1], not blank)
        if model is not None and note[0] and len(model.appended(note[0])) > NOTES_TOTAL_MAX:
            expected |= {ValidationError}
        follow_up = self._attempt(
            expected,
            lambda: self.wf.add_note(target, text=note[0], by=by[0], now=self.clock),  # type: ignore[arg-type]
        )
        if follow_up is not None and model is not None:
            model.notes = model.appended(note[0] or "")
            self._same(follow_up, model)

    # --- after every step ---

    @invariant()
    def contract_holds(self) -> None:
        self.clock += timedelta(minutes=1)
        if not self.leads_before:
            return  # before the database was set up
        with self.engine.connect() as conn:
            rows = read_all(conn)
            assert violations(conn, rows) == []
        self.rows = {name: [tuple(row.values()) for row in table] for name, table in rows.items()}
        assert self.rows["leads"] == self.leads_before, "a lead row changed"
        stored = {row["id"]: FollowUp(**row) for row in rows["follow_ups"]}
        assert sorted(stored) == sorted(self.models)
        for follow_up_id, model in self.models.items():
            self._same(stored[follow_up_id], model)

    # --- helpers ---

    def _target(self, ref: Ref) -> tuple[Any, Model | None, Expected]:
        """The id to pass, its model, and the errors a bad id alone must cause."""
        if ref.index is not None and self.ids:
            follow_up_id = self.ids[ref.index % len(self.ids)]
            return follow_up_id, self.models[follow_up_id], set()
        raw = UNKNOWN_ID if ref.index is not None else ref.raw
        well_formed = type(raw) is int and 0 < raw < 2**63
        return raw, None, {NotFound} if well_formed else {ValidationError}

    def _outcome_refusals(
        self, model: Model, has_issue: bool | None, summary: str | None, resolved: bool
    ) -> Expected:
        """The guards of record_outcome on an in-progress follow-up."""
        no_summary = not (summary or "").strip()
        refused = (
            not model.reached
            or has_issue is None
            or (has_issue and no_summary)
            or (not has_issue and (resolved or summary is not None))
        )
        return {GuardFailed} if refused else set()

    def _attempt(self, expected: Expected, action: Callable[[], FollowUp]) -> FollowUp | None:
        """Run `action`: refused with one of `expected` and nothing written, or accepted."""
        before = self.rows or snapshot(self.engine)
        self.rows = None
        try:
            result = action()
        except IedWorkflowError as error:
            assert type(error) in expected, f"refused with {error!r}, expected {expected or 'ok'}"
            message = str(error)
            assert message and len(message.splitlines()) == 1, message
            assert snapshot(self.engine) == before, "a refused operation wrote something"
            self.rows = before
            return None
        assert not expected, f"accepted, but expected one of {expected}"
        return result

    def _same(self, row: FollowUp, model: Model) -> None:
        """The stored follow-up says exactly what the model says."""
        last = model.last_attempt()
        seen = (
            row.status,
            row.lead_id,
            row.due_at,
            row.started_at,
            row.contact_attempt_count,
            row.reached_customer,
            row.last_contacted_at,
            row.last_contacted_by_email,
            row.last_contact_outcome,
            row.has_issue,
            row.issue_summary,
            row.issue_resolved,
            row.satisfaction_outcome,
            row.referral_opportunity,
            row.notes,
        )
        wanted = (
            model.status,
            model.lead_id,
            model.due_at,
            model.started_at,
            len(model.attempts),
            model.reached,
            last and last[0],
            last and last[1],
            last and last[2],
            model.has_issue,
            model.issue_summary,
            model.issue_resolved,
            model.satisfaction,
            model.referral,
            model.notes,
        )
        assert seen == wanted


def _empty(engine: Engine) -> None:
    """A fresh database for each example: every row of every table gone (ids may go on)."""
    with engine.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def quick_engine(database_url: str) -> Iterator[Engine]:
    """The test's own engine: no pre-ping, since the server stays up for this test."""
    engine = engines.make_engine(database_url, pool_pre_ping=False)
    yield engine
    engine.dispose()


def test_random_operation_sequences_keep_the_contract(
    quick_engine: Engine, settings: Settings
) -> None:
    # Given a fresh database per example, When hypothesis runs its fixed budget of random
    # sequences, Then every step keeps the model, the invariants and the lead rows.
    machine = functools.partial(ContractMachine, quick_engine, settings)
    run_state_machine_as_test(machine, settings=BUDGET)  # type: ignore[arg-type]
