"""The API's follow-up body is built directly from the dataclass; it must stay exactly
what validating it into FollowUpOut and dumping that gives (the OpenAPI schema's shape)."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

from ied_workflow.domain import FollowUp
from ied_workflow.web.api import bodies
from ied_workflow.web.api.schemas import FollowUpOut

AT = datetime(2026, 11, 25, 9, 30, 15, 123456, tzinfo=UTC)


def _every_field_set() -> FollowUp:
    return FollowUp(
        id=7,
        lead_id="L-7",
        installer_id="I-1",
        status="closed_with_issue",
        due_at=AT,
        created_at=AT - timedelta(days=2),
        created_by_email="ops@ied.example",
        updated_at=AT + timedelta(hours=1),
        version=5,
        started_at=AT - timedelta(days=1),
        completed_at=AT.astimezone(timezone(timedelta(hours=1))),
        contact_attempt_count=3,
        last_contacted_at=AT.replace(microsecond=0),  # isoformat drops zero microseconds
        last_contacted_by_email="ops@ied.example",
        last_contact_outcome="reached_customer",
        reached_customer=True,
        satisfaction_outcome="unsatisfied",
        has_issue=True,
        issue_summary='Leaks "a bit" — \u00e9t\u00e9\n\x01 </script>',
        issue_resolved=False,
        referral_opportunity=True,
        notes="✓ done",
    )


def _flags_the_other_way() -> FollowUp:
    """With the two fixtures above, every two fields of one type differ in one of them,
    so a body that swapped two fields would not match the schema's."""
    return replace(
        _every_field_set(),
        referral_opportunity=False,
        issue_resolved=True,
        has_issue=False,
        last_contacted_by_email="agent@ied.example",
    )


def _fresh() -> FollowUp:
    return FollowUp(
        id=8,
        lead_id="L-8",
        installer_id=None,
        status="pending",
        due_at=AT,
        created_at=AT,
        created_by_email="ops@ied.example",
        updated_at=AT,
        version=1,
    )


def _as_schema_dumps_it(follow_up: FollowUp) -> bytes:
    return FollowUpOut.model_validate(follow_up).model_dump_json(by_alias=True).encode()


def test_body_is_byte_for_byte_what_the_schema_dumps() -> None:
    for follow_up in (_every_field_set(), _flags_the_other_way(), _fresh()):
        body = bodies.json_response(bodies.follow_up_json(follow_up)).body
        assert body == _as_schema_dumps_it(follow_up)


def test_body_names_every_field_of_the_schema_once() -> None:
    body = bodies.follow_up_json(_fresh())
    aliases = [field.alias for field in FollowUpOut.model_fields.values()]
    assert list(body) == aliases
    assert len(body) == len(fields(FollowUp))


def test_instants_keep_their_offset_as_isoformat_prints_it() -> None:
    body = json.loads(bodies.json_response(bodies.follow_up_json(_every_field_set())).body)
    assert body["dueAt"] == "2026-11-25T09:30:15.123456+00:00"
    assert body["completedAt"] == "2026-11-25T10:30:15.123456+01:00"
    assert body["completedAt"] is not None and body["installerId"] == "I-1"
