"""Who may do what: viewer reads, operator also acts, admin also handles notifications."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine

from ied_workflow.workflow import Workflow
from tests.support.api_client import ROLES, Api, assert_problem, delivered, email_of
from tests.support.database import snapshot

# (method, path, body, the least role that may call it); {id} is an existing follow-up.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/v1/leads/L-1", None, "viewer"),
    ("GET", "/api/v1/follow-ups", None, "viewer"),
    ("GET", "/api/v1/follow-ups/{id}", None, "viewer"),
    ("GET", "/api/v1/follow-ups/{id}/history", None, "viewer"),
    ("GET", "/api/v1/dashboard", None, "viewer"),
    ("PUT", "/api/v1/leads/L-2", {"status": "assigned", "installerId": "I-1"}, "operator"),
    ("POST", "/api/v1/follow-ups", {"leadId": "L-3"}, "operator"),
    ("POST", "/api/v1/follow-ups/{id}/start", None, "operator"),
    ("POST", "/api/v1/follow-ups/{id}/contact-attempts", {"outcome": "attempted"}, "operator"),
    ("POST", "/api/v1/follow-ups/{id}/outcome", {"hasIssue": False}, "operator"),
    ("POST", "/api/v1/follow-ups/{id}/resolve-issue", {}, "operator"),
    (
        "POST",
        "/api/v1/follow-ups/{id}/reschedule",
        {"dueAt": "2026-12-01T09:00:00+01:00"},
        "operator",
    ),
    ("POST", "/api/v1/follow-ups/{id}/notes", {"note": "hello"}, "operator"),
    ("GET", "/api/v1/notifications", None, "admin"),
    ("GET", "/api/v1/notifications?status=failed", None, "admin"),
    ("POST", "/api/v1/notifications/1/retry", None, "admin"),
]
RANK = {role: n for n, role in enumerate(ROLES)}


@pytest.fixture
def follow_up_id(operator: Api) -> int:
    operator.put("/api/v1/leads/L-3", json={"status": "assigned", "installerId": "I-7"})
    return int(delivered(operator)["id"])


def call(api: Api, method: str, path: str, body: dict[str, Any] | None, follow_up_id: int) -> Any:
    url = path.replace("{id}", str(follow_up_id))
    return api.client.request(method, url, json=body, headers=api.headers())


@contextmanager
def unchanged(engine: Engine) -> Iterator[None]:
    before = snapshot(engine)
    yield
    assert snapshot(engine) == before


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_roles_below_the_least_are_refused_403_and_change_nothing(
    as_role: dict[str, Api],
    engine: Engine,
    follow_up_id: int,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    least: str,
) -> None:
    for role in ROLES:
        if RANK[role] < RANK[least]:
            with unchanged(engine):
                problem = assert_problem(
                    call(as_role[role], method, path, body, follow_up_id), 403, "forbidden"
                )
            assert role in problem["detail"]


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_roles_at_or_above_the_least_are_let_through(
    as_role: dict[str, Api],
    follow_up_id: int,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    least: str,
) -> None:
    for role in ROLES:
        if RANK[role] >= RANK[least]:
            answer = call(as_role[role], method, path, body, follow_up_id)
            assert answer.status_code not in (401, 403), (role, answer.text)


@pytest.mark.parametrize(("method", "path", "body", "least"), ENDPOINTS)
def test_no_token_is_401_with_a_bearer_challenge(
    anonymous: Api, engine: Engine, follow_up_id: int, method: str, path: str, body: Any, least: str
) -> None:
    with unchanged(engine):
        answer = call(anonymous, method, path, body, follow_up_id)
    assert_problem(answer, 401, "unauthenticated")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer iedw_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 5000,
        "bearer iedw_",
        "Token abc",
    ],
)
def test_bad_tokens_are_401(client: Any, tokens: dict[str, str], authorization: str) -> None:
    answer = client.get("/api/v1/dashboard", headers={"Authorization": authorization})
    assert_problem(answer, 401, "unauthenticated")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_refused_from_its_next_request(wf: Workflow, operator: Api) -> None:
    assert operator.get("/api/v1/dashboard").status_code == 200
    [token] = [t for t in wf.tokens() if t.user_email == email_of("operator")]
    wf.revoke_token(token.id)
    assert_problem(operator.get("/api/v1/dashboard"), 401, "unauthenticated")


def test_disabled_user_is_refused_from_the_next_request(wf: Workflow, operator: Api) -> None:
    follow_up = delivered(operator)
    wf.disable_user(email_of("operator"))
    refused = operator.post(f"/api/v1/follow-ups/{follow_up['id']}/start")
    assert_problem(refused, 401, "unauthenticated")
    assert wf.get(follow_up["id"]).status == "pending"


def test_other_tokens_of_the_same_user_keep_working_after_one_is_revoked(
    wf: Workflow, client: Any, operator: Api
) -> None:
    second = Api(client, wf.create_token(email_of("operator"), name="second").token)
    [first] = [t for t in wf.tokens() if t.user_email == email_of("operator") and t.name == "tests"]
    wf.revoke_token(first.id)
    assert second.get("/api/v1/dashboard").status_code == 200


def test_only_a_hash_of_the_token_is_stored(
    wf: Workflow, engine: Engine, tokens: dict[str, str]
) -> None:
    stored = repr(snapshot(engine))
    for token in tokens.values():
        assert token not in stored and token.removeprefix("iedw_") not in stored
