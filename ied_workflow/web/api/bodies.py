"""The API's follow-up bodies: JSON as the schemas name it, the version as ETag and If-Match."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import Response

from ied_workflow.domain import FollowUp
from ied_workflow.errors import ValidationError

STRONG_TAG = re.compile(r'"(\d{1,18})"')


def etag(version: int) -> str:
    return f'"{version}"'


def answer(
    follow_up: FollowUp, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The follow-up as a body, its version as the ETag."""
    tagged = {"ETag": etag(follow_up.version)} | (headers or {})
    return json_response(follow_up_json(follow_up), status_code, tagged)


def follow_up_json(f: FollowUp) -> dict[str, Any]:
    """The follow-up under FollowUpOut's names, for `json_response` to write.

    FollowUp holds what the database returned, already of the schema's types, so
    there is nothing to validate (validating it was a third of a list's CPU); a test
    compares this with FollowUpOut's output byte for byte.
    """
    return {
        "id": f.id,
        "leadId": f.lead_id,
        "installerId": f.installer_id,
        "status": f.status,
        "dueAt": f.due_at,
        "createdAt": f.created_at,
        "createdByEmail": f.created_by_email,
        "updatedAt": f.updated_at,
        "version": f.version,
        "startedAt": f.started_at,
        "completedAt": f.completed_at,
        "contactAttemptCount": f.contact_attempt_count,
        "lastContactedAt": f.last_contacted_at,
        "lastContactedByEmail": f.last_contacted_by_email,
        "lastContactOutcome": f.last_contact_outcome,
        "reachedCustomer": f.reached_customer,
        "satisfactionOutcome": f.satisfaction_outcome,
        "hasIssue": f.has_issue,
        "issueSummary": f.issue_summary,
        "issueResolved": f.issue_resolved,
        "referralOpportunity": f.referral_opportunity,
        "notes": f.notes,
    }


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """JSON data (dicts, lists, str, int, bool, None, enums, aware datetimes) as the
    schemas dump it: orjson writes an instant as `isoformat` does, offset included, for
    every offset in whole minutes (the database's are UTC; AwareDatetime refuses others),
    without making a string of each instant first.
    """
    body = orjson.dumps(content)
    return Response(body, status_code, headers, media_type="application/json")


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
