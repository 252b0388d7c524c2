"""HTTP details of follow-ups: ETags and If-Match, and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import datetime

from fastapi import Response
from pydantic import BaseModel

from ied_workflow import validation
from ied_workflow.domain import FollowUp
from ied_workflow.errors import ValidationError
from ied_workflow.web.schemas import FollowUpOut

STRONG_TAG = re.compile(r'"(\d{1,18})"')
SIGNATURE_BYTES = 16


def etag(version: int) -> str:
    return f'"{version}"'


def answer(
    follow_up: FollowUp, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The follow-up as a body, its version as the ETag."""
    tagged = {"ETag": etag(follow_up.version)} | (headers or {})
    return json_body(FollowUpOut.model_validate(follow_up), status_code, tagged)


def json_body(
    body: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """An already validated body, serialized once by pydantic.

    A route returning the model itself has FastAPI validate it again against its
    `response_model` and encode it a second way: for a list of 100 follow-ups of 22
    fields, most of a request's CPU. The routes keep `response_model` for OpenAPI.
    """
    content = body.model_dump_json(by_alias=True)
    return Response(content, status_code, headers, media_type="application/json")


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names; None when absent or `*` (any version).

    One strong tag as the ETag gave it; a list or a weak tag is refused (422) rather
    than guessed at, since an action on the wrong version is what If-Match prevents.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    found = STRONG_TAG.fullmatch(if_match.strip())
    if found is None:
        raise ValidationError('If-Match must be one ETag as sent, e.g. "3"')
    return int(found.group(1))


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
