"""Every error status as RFC 9457 problem+json, and a refused request changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from ied_workflow.errors import VersionMismatch
from ied_workflow.workflow import Workflow
from tests.support.api_client import Api, assert_problem, delivered, email_of
from tests.support.data import NOW
from tests.support.database import snapshot


def refused(engine: Engine, answer: Any) -> Any:
    """Call `answer()` and prove that no row of any table changed."""
    before = snapshot(engine)
    response = answer()
    assert snapshot(engine) == before
    return response


# --- 404 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/follow-ups/999",
        "/api/v1/follow-ups/999/history",
        "/api/v1/leads/L-404",
        "/api/v1/nothing",
    ],
)
def test_unknown_things_are_404(viewer: Api, path: str) -> None:
    assert_problem(viewer.get(path), 404)


def test_action_on_an_unknown_follow_up_is_404(operator: Api, engine: Engine) -> None:
    answer = refused(engine, lambda: operator.post("/api/v1/follow-ups/999/start"))
    assert_problem(answer, 404, "not-found")


def test_follow_up_for_an_unknown_lead_is_404(operator: Api, engine: Engine) -> None:
    answer = refused(engine, lambda: operator.post("/api/v1/follow-ups", json={"leadId": "L-0"}))
    assert_problem(answer, 404, "not-found")


def test_wrong_method_is_405_problem(viewer: Api) -> None:
    assert_problem(viewer.client.delete("/api/v1/dashboard", headers=viewer.headers()), 405)


# --- 409 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "kind"),
    [
        ("resolve-issue", {}, "transition-not-allowed"),
        ("outcome", {"hasIssue": False, "satisfaction": "satisfied"}, "guard-failed"),
    ],
)
def test_contract_refusals_are_409_naming_the_rule_and_change_nothing(
    operator: Api, engine: Engine, action: str, body: dict[str, Any], kind: str
) -> None:
    follow_up = delivered(operator)
    operator.post(f"/api/v1/follow-ups/{follow_up['id']}/start")
    url = f"/api/v1/follow-ups/{follow_up['id']}/{action}"
    assert_problem(refused(engine, lambda: operator.post(url, json=body)), 409, kind)


def test_duplicate_and_ineligible_creates_change_nothing(operator: Api, engine: Engine) -> None:
    delivered(operator)
    operator.put("/api/v1/leads/L-2", json={"status": "lost", "installerId": "I-7"})
    for lead_id, kind in (("L-1", "duplicate-follow-up"), ("L-2", "lead-not-eligible")):
        create = lambda lead=lead_id: operator.post("/api/v1/follow-ups", json={"leadId": lead})  # noqa: E731
        assert_problem(refused(engine, create), 409, kind)


# --- 412 -------------------------------------------------------------------------


def test_every_follow_up_response_carries_its_version_as_etag(operator: Api) -> None:
    follow_up = delivered(operator)
    url = f"/api/v1/follow-ups/{follow_up['id']}"
    assert operator.get(url).headers["ETag"] == '"1"'
    started = operator.post(f"{url}/start")
    assert (started.headers["ETag"], started.json()["version"]) == ('"2"', 2)


def test_action_with_an_older_if_match_is_412_and_changes_nothing(
    operator: Api, engine: Engine
) -> None:
    follow_up = delivered(operator)
    url = f"/api/v1/follow-ups/{follow_up['id']}"
    operator.post(f"{url}/notes", json={"note": "first"}, headers={"If-Match": '"1"'})
    headers = {"If-Match": '"1"'}
    answer = refused(
        engine, lambda: operator.post(f"{url}/notes", json={"note": "late"}, headers=headers)
    )

    problem = assert_problem(answer, 412, "version-mismatch")
    assert (problem["currentVersion"], answer.headers["ETag"]) == (2, '"2"')


@pytest.mark.parametrize("if_match", ['"1"', "*", ' "1" '])
def test_action_with_the_current_if_match_or_star_goes_through(
    operator: Api, if_match: str
) -> None:
    follow_up = delivered(operator)
    answer = operator.post(
        f"/api/v1/follow-ups/{follow_up['id']}/start", headers={"If-Match": if_match}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("if_match", ['W/"1"', '"1", "2"', "1", "abc", '""'])
def test_an_if_match_that_is_not_one_strong_etag_is_422(
    operator: Api, engine: Engine, if_match: str
) -> None:
    follow_up = delivered(operator)
    url = f"/api/v1/follow-ups/{follow_up['id']}/start"
    answer = refused(engine, lambda: operator.post(url, headers={"If-Match": if_match}))
    assert_problem(answer, 422, "invalid-input")


def test_the_service_checks_the_version_after_locking_the_row(wf: Workflow) -> None:
    # The Python API refuses too: If-Match is a rule of the use case, not of HTTP.
    wf.upsert_lead("L-1", status="assigned", installer_id="I-7")
    follow_up = wf.create("L-1", by=email_of("operator"))
    wf.add_note(follow_up.id, text="one", by=email_of("operator"), expected_version=1)
    with pytest.raises(VersionMismatch) as raised:
        wf.start(follow_up.id, by=email_of("operator"), expected_version=1)
    assert raised.value.current_version == 2
    assert wf.get(follow_up.id).status == "pending"


# --- 413 -------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_it_is_read(
    operator: Api, engine: Engine, wf: Workflow
) -> None:
    follow_up = delivered(operator)
    big = "x" * (wf.settings.api_max_body_bytes + 1)
    url = f"/api/v1/follow-ups/{follow_up['id']}/notes"
    answer = refused(engine, lambda: operator.post(url, json={"note": big}))
    assert_problem(answer, 413, "body-too-large")


def test_a_chunked_body_over_the_limit_is_413(operator: Api, engine: Engine, wf: Workflow) -> None:
    follow_up = delivered(operator)
    chunk = b"x" * 65536
    count = wf.settings.api_max_body_bytes // len(chunk) + 2

    def chunks() -> Iterator[bytes]:
        yield b'{"note": "'
        for _ in range(count):
            yield chunk
        yield b'"}'

    url = f"/api/v1/follow-ups/{follow_up['id']}/notes"
    headers = operator.headers({"Content-Type": "application/json"})
    answer = refused(engine, lambda: operator.client.post(url, content=chunks(), headers=headers))
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    assert_problem(answer, 413, "body-too-large")


def test_the_largest_valid_outcome_fits_under_the_limit(operator: Api) -> None:
    follow_up = delivered(operator)
    operator.post(
        f"/api/v1/follow-ups/{follow_up['id']}/contact-attempts",
        json={"outcome": "reached_customer"},
    )
    emoji = "\U0001f600"  # JSON-escaped by httpx as two \\uXXXX: 12 bytes a character
    body = {"hasIssue": True, "issueSummary": emoji * 2000, "notes": emoji * 4000}
    assert len(json.dumps(body)) > 70_000
    answer = operator.post(f"/api/v1/follow-ups/{follow_up['id']}/outcome", json=body)
    assert answer.status_code == 200, answer.text


# --- 422 -------------------------------------------------------------------------

ACTOR_FIELDS = [
    "by",
    "createdByEmail",
    "actorEmail",
    "lastContactedByEmail",
    "byEmail",
    "created_by_email",
]


@pytest.mark.parametrize("field", ACTOR_FIELDS)
def test_a_body_naming_an_actor_is_422_on_create(operator: Api, engine: Engine, field: str) -> None:
    operator.put("/api/v1/leads/L-1", json={"status": "assigned", "installerId": "I-7"})
    body = {"leadId": "L-1", field: "someone.else@ied.example"}
    answer = refused(engine, lambda: operator.post("/api/v1/follow-ups", json=body))
    problem = assert_problem(answer, 422, "invalid-input")
    assert field in problem["detail"]


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("start", {"by": "boss@ied.example"}),
        ("contact-attempts", {"outcome": "attempted", "by": "boss@ied.example"}),
        (
            "outcome",
            {"hasIssue": False, "satisfaction": "satisfied", "actorEmail": "b@ied.example"},
        ),
        ("resolve-issue", {"by": "boss@ied.example"}),
        ("reschedule", {"dueAt": "2026-12-01T09:00:00Z", "by": "boss@ied.example"}),
        ("notes", {"note": "hi", "lastContactedByEmail": "boss@ied.example"}),
    ],
)
def test_a_body_naming_an_actor_is_422_on_every_action(
    operator: Api, engine: Engine, action: str, body: dict[str, Any]
) -> None:
    follow_up = delivered(operator)
    url = f"/api/v1/follow-ups/{follow_up['id']}/{action}"
    assert_problem(refused(engine, lambda: operator.post(url, json=body)), 422, "invalid-input")


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("contact-attempts", {"outcome": "bogus"}),
        ("contact-attempts", {}),
        ("contact-attempts", {"outcome": "attempted", "note": "bell\x07"}),
        ("outcome", {"satisfaction": "satisfied"}),
        ("outcome", {"hasIssue": "yes"}),
        ("outcome", {"hasIssue": 1}),
        ("outcome", {"hasIssue": False, "satisfaction": "ecstatic"}),
        ("reschedule", {"dueAt": "2026-12-01T09:00:00"}),
        ("reschedule", {"dueAt": "tomorrow"}),
        ("notes", {"note": ""}),
        ("notes", {"note": "   "}),
        ("notes", {"note": "x" * 4001}),
        ("notes", {"note": "a\rb"}),
        ("notes", {"note": 42}),
    ],
)
def test_invalid_input_is_422_and_changes_nothing(
    operator: Api, engine: Engine, action: str, body: dict[str, Any]
) -> None:
    follow_up = delivered(operator)
    url = f"/api/v1/follow-ups/{follow_up['id']}/{action}"
    assert_problem(refused(engine, lambda: operator.post(url, json=body)), 422, "invalid-input")


def test_malformed_json_is_422(operator: Api) -> None:
    headers = operator.headers({"Content-Type": "application/json"})
    answer = operator.client.post("/api/v1/follow-ups", content=b'{"leadId": ', headers=headers)
    assert_problem(answer, 422, "invalid-input")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "501"},
        {"limit": "0"},
        {"status": "escalated"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ4IjoxfQ.AAAA"},
        {"installerId": "bad id!"},
        {"overdue": "maybe"},
    ],
)
def test_invalid_list_parameters_are_422(viewer: Api, params: dict[str, str]) -> None:
    assert_problem(viewer.get("/api/v1/follow-ups", params=params), 422, "invalid-input")


@pytest.mark.parametrize(
    "path", ["/api/v1/follow-ups/0", "/api/v1/follow-ups/-1", "/api/v1/follow-ups/x"]
)
def test_invalid_ids_are_422(viewer: Api, path: str) -> None:
    assert_problem(viewer.get(path), 422, "invalid-input")


def test_a_lead_id_the_contract_cannot_store_is_422(operator: Api) -> None:
    answer = operator.put("/api/v1/leads/" + "L" * 65, json={"status": "assigned"})
    assert_problem(answer, 422, "invalid-input")


def test_a_past_due_date_is_accepted_and_overdue_at_once(operator: Api) -> None:
    follow_up = delivered(operator, dueAt=(NOW - timedelta(days=30)).isoformat())
    assert follow_up["status"] == "pending"
