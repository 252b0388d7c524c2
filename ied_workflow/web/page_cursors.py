"""Page cursors: the (dueAt, id) keyset of a page's last row, signed so it stays opaque.

Not a database cursor: API and console lists hand one out as `nextCursor` and take it
back to read the next page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime

from ied_workflow import validation
from ied_workflow.errors import ValidationError

SIGNATURE_BYTES = 16


def cursor(due_at: datetime, follow_up_id: int, key: bytes) -> str:
    """An opaque, signed keyset: the (dueAt, id) of the last row of a page."""
    payload = _b64(json.dumps([due_at.isoformat(), follow_up_id]).encode())
    return f"{payload}.{_b64(_signature(payload, key))}"


def keyset(value: str, key: bytes) -> tuple[datetime, int]:
    """The keyset a cursor from `cursor` holds; anything else is refused (422)."""
    payload, _, signature = value.partition(".")
    try:
        if not hmac.compare_digest(_unb64(signature), _signature(payload, key)):
            raise ValueError("bad signature")
        due_at, follow_up_id = json.loads(_unb64(payload))
        return validation.parse_datetime(due_at, "cursor"), validation.positive_id(follow_up_id)
    except (ValueError, TypeError, binascii.Error, ValidationError):
        raise ValidationError("cursor is not valid: pass nextCursor exactly as given") from None


def _signature(payload: str, key: bytes) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
