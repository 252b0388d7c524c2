"""Hostile input: fuzz the service (`Workflow`) with random and malicious text.

Inputs (tests/support/hostile.py): control characters, CRLF, 1 MB strings, Unicode (emoji,
RTL, combining marks, lone surrogates, bidi overrides), SQL fragments, Slack mention and
link syntax, HTML, and malformed ids.

What each answer must be (the typed errors the Python API promises):
- malformed input (a bad text or id): ValidationError, never a driver error;
- a well-formed id of nothing: NotFound;
- a well-formed value a rule refuses (an empty issue summary with an issue): an
  IedWorkflowError;
- every refused write: a one-line error, and no row written (snapshot before and after);
- whatever is accepted comes back byte for byte (`Workflow.get`, `Workflow.history`).

The example budget is fixed and derandomized, so CI runs the same inputs every time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from ied_workflow.domain import FollowUp, Outcome, Satisfaction
from ied_workflow.errors import IedWorkflowError, NotFound, ValidationError
from ied_workflow.workflow import Workflow
from tests.support.data import OPS
from tests.support.database import snapshot
from tests.support.hostile import (
    ANY_TEXT,
    FUZZ,
    HOSTILE_PIECES,
    NOTE_MAX,
    acceptable,
    fresh,
    with_megabytes,
)

pytestmark = pytest.mark.postgres


# Printable hostile text: what validation must accept (markup, SQL, mentions, Unicode).
PRINTABLE_TEXT = st.lists(
    st.sampled_from([p for p in HOSTILE_PIECES if acceptable(p, 100)])
    | st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=6),
    min_size=1,
    max_size=8,
).map("".join)


# --- the service --------------------------------------------------------------------------


@FUZZ
@given(text=ANY_TEXT)
@example(text="\ud800")
@example(text="<!channel>\u202e")
@with_megabytes("text")
def test_service_refuses_hostile_text_with_a_typed_error_or_keeps_it(
    workflow: Workflow, engine: Engine, text: str
) -> None:
    # Given a fresh follow-up, When hostile text is given as a note and as a contact note
    follow_up = fresh(workflow)
    note_ok = bool(text.strip()) and acceptable(text, NOTE_MAX)
    kept = attempt(engine, note_ok, lambda: workflow.add_note(follow_up.id, text=text, by=OPS))
    # Then it is refused whole with a ValidationError, or kept byte for byte
    if kept:
        assert workflow.get(follow_up.id).notes == text
    contact_ok = acceptable(text, NOTE_MAX)
    kept = attempt(
        engine,
        contact_ok,
        lambda: workflow.log_contact(follow_up.id, by=OPS, outcome="attempted", note=text),
    )
    if kept:
        assert workflow.history(follow_up.id)[1][-1].note == (text or None)


def attempt(engine: Engine, ok: bool, action: Callable[[], FollowUp]) -> bool:
    """Run `action`: accepted when `ok`, else a one-line ValidationError and nothing written."""
    before = snapshot(engine)
    try:
        action()
    except ValidationError as error:
        assert not ok, f"refused acceptable text: {error}"
        assert len(str(error).splitlines()) == 1
        assert snapshot(engine) == before
        return False
    assert ok, "accepted malformed text"
    return True


@FUZZ
@given(summary=PRINTABLE_TEXT, notes=PRINTABLE_TEXT)
def test_service_keeps_printable_hostile_outcomes_byte_for_byte(
    workflow: Workflow, summary: str, notes: str
) -> None:
    follow_up = fresh(workflow, reached=True)
    outcome = Outcome(
        has_issue=True,
        issue_summary=summary,
        satisfaction=Satisfaction.MIXED,
        notes=notes,
    )
    if not summary.strip():
        with pytest.raises(IedWorkflowError):
            workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome)
        return
    closed = workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome)
    stored = workflow.get(closed.id)
    kept_notes = notes or None  # an empty optional text means "no notes" (design notes)
    assert (stored.issue_summary, stored.notes) == (summary, kept_notes)
    event = workflow.history(closed.id)[0][-1]
    assert (event.data["issueSummary"], event.data["notes"]) == (summary, kept_notes)


@FUZZ
@given(
    follow_up_id=st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([2**63, 10**30, -(2**63) - 1]),
        st.sampled_from(["1", "abc", 1.5, None, b"1", True]),
    )
)
@example(follow_up_id=2**63)
@example(follow_up_id="abc")
def test_service_reads_refuse_malformed_ids_with_typed_errors(
    workflow: Workflow, follow_up_id: Any
) -> None:
    # The Python API promises typed errors; a read must not leak a driver error.
    for read in (workflow.get, workflow.history):
        with contextlib.suppress(ValidationError, NotFound):
            read(follow_up_id)


@FUZZ
@given(lead=ANY_TEXT)
@example(lead="\udcff")
@example(lead="L\x00-1")
def test_service_lead_lookup_refuses_malformed_ids_with_typed_errors(
    workflow: Workflow, lead: str
) -> None:
    with contextlib.suppress(ValidationError, NotFound):
        workflow.lead(lead)
