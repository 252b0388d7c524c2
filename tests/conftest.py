"""Fixtures of every test directory, defined once: databases, fake Slack and SMTP servers,
the in-process CLI, private servers to break, the product deployed as processes, and
alert messages to render and send.

The same database tests run on SQLite and on the real PostgreSQL server. The leak check
(tests/support/leaks.py) fails a test that leaves a process running.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from ied_workflow.alerts.message import AlertItem, Message
from ied_workflow.db import engines, migrate
from ied_workflow.db.clock import FixedClock
from ied_workflow.workflow import Workflow
from tests.support.cli import Cli, cli_runner
from tests.support.data import NOW
from tests.support.database import empty_tables
from tests.support.deployment import Deploy, deployments
from tests.support.messages import alert_item, alert_message
from tests.support.net import free_port
from tests.support.servers import PrivatePostgres, PrivateRedis, ServiceMissing
from tests.support.settings import build_settings
from tests.support.shared_servers import scratch_postgres_database, unavailable
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpFactory, SmtpSink

pytest_plugins = ["tests.support.leaks"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_postgres_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = engines.make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_database(postgres_url: str, postgres_engine: Engine) -> str:
    """The session's scratch database on the shared PostgreSQL, emptied for this test."""
    empty_tables(postgres_engine)
    return postgres_url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "ied.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = engines.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return build_settings(database_url)


@pytest.fixture
def workflow(engine: Engine, settings: Settings) -> Workflow:
    """The workflow with its clock fixed at NOW: no test depends on the day it runs."""
    return Workflow(engine, settings, clock=FixedClock(NOW))


@pytest.fixture
def cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """Runs `ied-workflow ARGS...` in-process on `database_url`; returns code, out, err."""
    yield from cli_runner(database_url, monkeypatch, capsys)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A real HTTP server on 127.0.0.1 acting as the Slack incoming webhook."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def smtp_factory() -> Iterator[SmtpFactory]:
    """Starts real aiosmtpd servers on 127.0.0.1; `login=(user, password)` turns AUTH on."""
    sinks: list[SmtpSink] = []

    def start(login: tuple[str, str] | None = None, **smtp_options: Any) -> SmtpSink:
        sinks.append(SmtpSink(login, **smtp_options).start())
        return sinks[-1]

    yield start
    for sink in sinks:
        sink.stop()


@pytest.fixture
def smtp(smtp_factory: SmtpFactory) -> SmtpSink:
    """A plain SMTP server that accepts and records everything."""
    return smtp_factory()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on."""
    return free_port()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A fresh redis-server of this test's own: SIGKILL it, restart it, nobody else minds."""
    try:
        server = PrivateRedis(tmp_path)
    except ServiceMissing as exc:
        unavailable("private redis-server", exc)
    try:
        server.start()
        yield server
    finally:
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
    migrate.upgrade(url)
    return url


@pytest.fixture
def deploy(tmp_path: Path) -> Iterator[Deploy]:
    """`deploy(database_url, redis_url, extra_env=None, **settings)`: the product's
    settings, a Workflow and Celery processes for this test; all stopped at teardown."""
    with deployments(tmp_path) as deploy:
        yield deploy


@pytest.fixture
def now() -> datetime:
    """The clock every test message is rendered at."""
    return NOW


@pytest.fixture
def make_item() -> Callable[..., AlertItem]:
    """Builds a follow-up 3 h 20 min overdue, with two attempts, overridable by keyword."""
    return alert_item


@pytest.fixture
def make_message() -> Callable[..., Message]:
    """Builds a message about the given items (one overdue follow-up when none given)."""
    return alert_message
