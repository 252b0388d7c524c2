"""The real ASGI app on SQLite and PostgreSQL, with a fixed clock and a token per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from config.settings import Settings
from ied_workflow.db.clock import FixedClock
from ied_workflow.web.app import create_app
from ied_workflow.workflow import Workflow
from tests.support.api_client import ROLES, SECRET, Api, email_of
from tests.support.data import NOW
from tests.support.settings import build_settings


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def api_settings(database_url: str) -> Settings:
    return build_settings(database_url, secret_key=SECRET)


@pytest.fixture
def wf(engine: Engine, api_settings: Settings, clock: FixedClock) -> Workflow:
    return Workflow(engine, api_settings, clock=clock)


@pytest.fixture
def client(wf: Workflow) -> Iterator[TestClient]:
    with TestClient(create_app(wf)) as test_client:
        yield test_client


@pytest.fixture
def tokens(wf: Workflow) -> dict[str, str]:
    """One user and token per role."""
    made = {}
    for role in ROLES:
        wf.add_user(email_of(role), role=role)
        made[role] = wf.create_token(email_of(role), name="tests").token
    return made


@pytest.fixture
def as_role(client: TestClient, tokens: dict[str, str]) -> dict[str, Api]:
    return {role: Api(client, token) for role, token in tokens.items()}


@pytest.fixture
def operator(as_role: dict[str, Api]) -> Api:
    return as_role["operator"]


@pytest.fixture
def viewer(as_role: dict[str, Api]) -> Api:
    return as_role["viewer"]


@pytest.fixture
def admin(as_role: dict[str, Api]) -> Api:
    return as_role["admin"]


@pytest.fixture
def anonymous(client: TestClient) -> Api:
    return Api(client, None)
