"""The console as its tests drive it: settings, a password user per role, and a
browser-like client that signs in through the form and sends its CSRF token."""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from config.settings import Settings
from ied_workflow.domain import FollowUp
from ied_workflow.workflow import Workflow
from tests.support.data import NOW
from tests.support.settings import build_settings

SECRET = "console-test-secret-key-long-enough"
PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")
ZONE = "Europe/Berlin"
HOSTILE = '<img src=x onerror=alert(1)><script>alert("x")</script>'
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def email_of(role: str) -> str:
    return f"{role}@ied.example"


def console_settings(database_url: str, **overrides: Any) -> Settings:
    values = {"secret_key": SECRET, "ops_timezone": ZONE, "stale_contact_days": 3}
    return build_settings(database_url, **(values | overrides))


@dataclass
class Browser:
    """A TestClient used as a browser would: it keeps its cookie and reads form tokens."""

    client: TestClient

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def token(self, path: str = "/login") -> str:
        found = TOKEN.search(self.client.get(path).text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def post(
        self, path: str, data: dict[str, Any], *, token: str | None = "auto"
    ) -> httpx.Response:
        """POST a form; `token` "auto" reads the session's, None sends none."""
        form = dict(data)
        if token == "auto":
            token = self.token("/login" if path == "/login" else "/")
        if token is not None:
            form["csrf_token"] = token
        return self.client.post(path, data=form, follow_redirects=False)

    def sign_in(self, role: str, password: str = PASSWORD, next: str = "") -> httpx.Response:
        return self.post("/login", {"email": email_of(role), "password": password, "next": next})


class SignedIn(dict[str, Browser]):
    """as_role["operator"]: a browser signed in as that role, made on first use."""

    def __init__(self, app: Any, stack: ExitStack) -> None:
        super().__init__()
        self.app, self.stack = app, stack

    def __missing__(self, role: str) -> Browser:
        client = self.stack.enter_context(TestClient(self.app))
        signed = self[role] = Browser(client)
        assert signed.sign_in(role).status_code == 303
        return signed


def follow_up(
    wf: Workflow, lead: str = "L-1", *, due_at: datetime | None = None, **lead_values: Any
) -> FollowUp:
    """A delivered lead and its follow-up (due two days ago unless told)."""
    wf.upsert_lead(lead, status="assigned", installer_id=lead_values.get("installer", "I-7"))
    return wf.create(lead, by="planner@ied.example", due_at=due_at or NOW - timedelta(days=2))


def reached(wf: Workflow, lead: str = "L-1", **values: Any) -> FollowUp:
    made = follow_up(wf, lead, **values)
    return wf.log_contact(made.id, by="agent@ied.example", outcome="reached_customer")
