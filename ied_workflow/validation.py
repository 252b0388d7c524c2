"""Edge validation: every value from a person or another system passes through here."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from ied_workflow.errors import ValidationError

E = TypeVar("E", bound=StrEnum)

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
NOTE_MAX = 4000
SUMMARY_MAX = 2000
NOTES_TOTAL_MAX = 64_000
_ALLOWED_CONTROLS = {"\n", "\t"}


def enum_value(enum: type[E], value: str | E, field: str) -> E:
    """The enum member named by `value`, or a ValidationError listing the choices."""
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise ValidationError(f"{field} must be one of {choices} (got {_show(value)})") from None


def email(value: str, field: str = "email") -> str:
    """A syntactically valid email address, normalised (domain lowercased)."""
    if not isinstance(value, str) or len(value) > 254:
        raise ValidationError(f"{field} is not a valid email address")
    normalized = _normalized_email(value)
    if normalized is None:
        raise ValidationError(f"{field} is not a valid email address: {_show(value)}")
    return normalized


@lru_cache(maxsize=4096)
def _normalized_email(value: str) -> str | None:
    """Operators' addresses repeat all day and validating one is slow: remember it."""
    # Loaded on the first email checked: its rules take a CLI command's start time.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def identifier(value: str, field: str) -> str:
    """A lead or installer id: 1 to 64 letters, digits, '.', '_', ':' or '-'."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValidationError(
            f"{field} must be 1-64 letters, digits, '.', '_', ':' or '-' (got {_show(value)})"
        )
    return value


def aware(value: datetime, field: str) -> datetime:
    """A datetime that carries its offset; naive ones are ambiguous and refused."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{field} must be a datetime with a UTC offset")
    try:
        value.astimezone(UTC)  # year 1 at +14:00 or year 9999 at -14:00 has no UTC instant
    except OverflowError:
        raise ValidationError(f"{field} is out of range") from None
    return value


def parse_datetime(value: str, field: str) -> datetime:
    """An ISO 8601 datetime with an offset (Z or +hh:mm)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise ValidationError(f"{field} is not an ISO 8601 datetime: {_show(value)}") from None
    return aware(parsed, field)


PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_due(value: str, field: str, zone: tzinfo) -> datetime:
    """A due date: an ISO 8601 datetime with offset, or a plain date meaning the end of
    that day in `zone` (23:59:59, so the follow-up is still "due today" on that day)."""
    if not PLAIN_DATE.fullmatch(value.strip()):
        return parse_datetime(value, field)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{field} is not a date: {_show(value)}") from None
    return aware(datetime.combine(day, time(23, 59, 59), tzinfo=zone), field)


def text(value: str | None, field: str, *, max_length: int, required: bool = False) -> str | None:
    """Free text kept byte for byte: printable characters, newlines and tabs only."""
    if value is None or (not required and value == ""):
        if required:
            raise ValidationError(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text")
    if required and not value.strip():
        raise ValidationError(f"{field} must not be empty")
    if len(value) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters")
    bad = next((c for c in value if _is_forbidden(c)), None)
    if bad is not None:
        raise ValidationError(f"{field} contains a control character (U+{ord(bad):04X})")
    return value


def positive_id(value: int, field: str = "id") -> int:
    """A database id: a positive integer that fits in a BIGINT."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValidationError(f"{field} must be a positive integer (got {_show(value)})")
    return value


def _is_forbidden(char: str) -> bool:
    if char in _ALLOWED_CONTROLS:
        return False
    # Cc: C0/C1 controls including CR; Cs: lone surrogates that cannot be encoded.
    return unicodedata.category(char) in ("Cc", "Cs")


def _show(value: object) -> str:
    """A short, single-line rendering of a bad value for an error message."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
