"""Fixtures for the worker tests: real Redis, PostgreSQL, Slack webhook and SMTP servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from celery import _state
from sqlalchemy import Engine

from tests.fakes import SlackWebhook, SmtpServer
from tests.services import redis_client
from tests.worker.support import empty_tables, forget_namespace, new_namespace


@pytest.fixture
def redis_server() -> Iterator[redis.Redis]:
    """A client of the shared Redis; fails in CI, skips elsewhere, when it is down."""
    client = redis_client()
    yield client
    client.close()


@pytest.fixture
def namespace(redis_server: redis.Redis) -> Iterator[str]:
    """A queue name and Redis key prefix used by this test only; its keys go afterwards."""
    name = new_namespace()
    yield name
    forget_namespace(redis_server, name)


@pytest.fixture
def database(postgres_url: str, postgres_engine: Engine) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    empty_tables(postgres_engine)
    return postgres_url


@pytest.fixture
def slack() -> Iterator[SlackWebhook]:
    with SlackWebhook() as webhook:
        yield webhook


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(autouse=True)
def keep_current_celery_app() -> Iterator[None]:
    """Creating or starting an app makes it Celery's current/default one: undo that."""
    saved = (_state.default_app, _state._tls.current_app)  # no public API restores both
    yield
    _state.set_default_app(saved[0])
    _state._tls.current_app = saved[1]
