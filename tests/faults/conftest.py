"""Fixtures for the fault-injection tests: private servers to break, sinks that record.

Outages are staged only on private servers started here (a redis-server per test, a
PostgreSQL cluster per module); the shared PostgreSQL only hosts scratch databases.
A missing binary or service fails the test in CI and skips it elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ied_workflow import db
from tests.cli.conftest import cli  # noqa: F401  # the in-process `ied-workflow` runner
from tests.fakes import SlackWebhook
from tests.faults.servers import PrivatePostgres, PrivateRedis, ServiceMissing
from tests.faults.support import RECORDED, empty_tables
from tests.notify.conftest import (  # noqa: F401  # a scripted Slack webhook, aiosmtpd servers
    closed_port,
    slack,
    smtp_factory,
)
from tests.services import unavailable


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A fresh redis-server of this test's own: SIGKILL it, restart it, nobody else minds."""
    try:
        server = PrivateRedis(tmp_path)
    except ServiceMissing as exc:
        unavailable("private redis-server", exc)
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this module's own, to crash with `pg_ctl stop -m immediate`."""
    try:
        server = PrivatePostgres()
    except (ServiceMissing, AssertionError) as exc:
        unavailable("private PostgreSQL cluster", exc)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def private_database(private_postgres: PrivatePostgres) -> str:
    """A migrated database on the private cluster, new for this test."""
    url = private_postgres.create_database(f"ied_faults_{uuid.uuid4().hex[:8]}")
    db.upgrade(url)
    return url


@pytest.fixture
def shared_database(postgres_url: str, postgres_engine: Engine) -> str:
    """The session's scratch database on the shared PostgreSQL, emptied for this test."""
    empty_tables(postgres_engine)
    return postgres_url


@pytest.fixture
def slow_slack() -> Iterator[SlackWebhook]:
    """A Slack webhook that holds every answer 0.25 s, so a kill lands mid-request."""
    with SlackWebhook(delay=0.25) as webhook:
        yield webhook


@pytest.fixture
def slack_sink() -> Iterator[SlackWebhook]:
    """A Slack webhook that answers 200 "ok" at once and records every post."""
    with SlackWebhook() as webhook:
        yield webhook


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the figures the fault tests measured (also in bench-results/reliability/)."""
    if not RECORDED:
        return
    terminalreporter.section("reliability figures")
    for test, figures in RECORDED.items():
        shown = ", ".join(f"{name}={value}" for name, value in figures.items())
        terminalreporter.write_line(f"{test}: {shown}")
