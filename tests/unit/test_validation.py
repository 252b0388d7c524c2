"""Edge validation of values from people and other systems."""

from __future__ import annotations

from datetime import datetime

import pytest

from ied_workflow import validation as v
from ied_workflow.domain import ContactOutcome
from ied_workflow.errors import ValidationError


def test_datetimes_need_an_offset() -> None:
    assert v.parse_datetime("2026-11-25T10:00:00Z", "at").utcoffset() is not None
    with pytest.raises(ValidationError, match="offset"):
        v.parse_datetime("2026-11-25T10:00:00", "at")
    with pytest.raises(ValidationError, match="ISO 8601"):
        v.parse_datetime("25/11/2026", "at")
    with pytest.raises(ValidationError):
        v.aware(datetime(2026, 11, 25), "at")


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@", "a b@c.example", "x" * 300 + "@a.io"])
def test_emails_must_be_addresses(bad: str) -> None:
    with pytest.raises(ValidationError):
        v.email(bad)


def test_text_is_kept_byte_for_byte_or_refused() -> None:
    kept = "Ünïcode ✓ <b>&</b> '; DROP TABLE x; --\n\tline two"
    assert v.text(kept, "note", max_length=100) == kept
    for bad in ("a\rb", "a\x00b", "\x1b[31m", "a\u0085b"):
        with pytest.raises(ValidationError, match="control character"):
            v.text(bad, "note", max_length=100)
    with pytest.raises(ValidationError, match="longer"):
        v.text("x" * 101, "note", max_length=100)


def test_enum_errors_list_the_choices() -> None:
    with pytest.raises(ValidationError, match="attempted, left_message"):
        v.enum_value(ContactOutcome, "waved", "outcome")
