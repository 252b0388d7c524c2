"""The console on SQLite and PostgreSQL: a fixed clock, a password user per role, and
a browser-like client that signs in through the form and sends its CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ied_workflow.accounts import hashing, use_cases
from ied_workflow.db.clock import FixedClock
from ied_workflow.web.app import create_app
from ied_workflow.workflow import Workflow
from tests.support.console_client import (
    PASSWORD,
    ROLES,
    Browser,
    SignedIn,
    console_settings,
    email_of,
)
from tests.support.data import NOW


@pytest.fixture(scope="session")
def password_hash() -> str:
    """PASSWORD's argon2 hash, made once: hashing is slow on purpose."""
    return hashing.hash_password(PASSWORD)


@pytest.fixture
def wf(engine: Engine, database_url: str, password_hash: str) -> Workflow:
    """The workflow at NOW, with a user (and password) per role."""
    workflow = Workflow(engine, console_settings(database_url), clock=FixedClock(NOW))
    for role in ROLES:
        workflow.run(
            lambda uow, role=role: use_cases.add_user(
                uow, email_of(role), role=role, password_hash=password_hash
            )
        )
    return workflow


@pytest.fixture
def app_client(wf: Workflow) -> Iterator[TestClient]:
    with TestClient(create_app(wf), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def browser(app_client: TestClient) -> Browser:
    return Browser(app_client)


@pytest.fixture
def as_role(wf: Workflow) -> Iterator[dict[str, Browser]]:
    """One signed-in browser per role, each with its own cookie jar."""
    with ExitStack() as stack:
        yield SignedIn(create_app(wf), stack)
