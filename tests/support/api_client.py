"""The HTTP API as the api tests speak it: a client per role, follow-ups opened through
it, and the RFC 9457 problems it answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

SECRET = "test-secret-key-that-is-long-enough"
ROLES = ("viewer", "operator", "admin")


def email_of(role: str) -> str:
    return f"{role}@ied.example"


@dataclass
class Api:
    """A client that speaks as one role (or as nobody)."""

    client: TestClient
    token: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**auth, **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.put(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)


def delivered(api: Api, lead_id: str = "L-1", **body: Any) -> dict[str, Any]:
    """An assigned lead with an installer, and its follow-up opened through the API."""
    lead = api.put(f"/api/v1/leads/{lead_id}", json={"status": "assigned", "installerId": "I-7"})
    assert lead.status_code == 200, lead.text
    created = api.post("/api/v1/follow-ups", json={"leadId": lead_id, **body})
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


def reached(api: Api, lead_id: str = "L-1") -> dict[str, Any]:
    follow_up = delivered(api, lead_id)
    answer = api.post(
        f"/api/v1/follow-ups/{follow_up['id']}/contact-attempts",
        json={"outcome": "reached_customer"},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def assert_problem(
    response: httpx.Response, status: int, kind: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem of this status (and type), with nothing a server should hide."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if kind is not None:
        assert body["type"] == f"urn:ied-workflow:problem:{kind}"
    for leak in ("Traceback", "SELECT", "INSERT", "UPDATE", "sqlalchemy", 'File "'):
        assert leak not in response.text
    return body
