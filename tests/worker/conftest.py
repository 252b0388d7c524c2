"""Fixtures for the worker tests: the shared Redis, in a namespace of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from celery import _state

from tests.support.deployment import Deploy, Deployment, alerting
from tests.support.redis_namespaces import TEST_NAMESPACE_ENV, forget_namespace, new_namespace
from tests.support.shared_servers import REDIS_URL, redis_client
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink


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
def deployment(
    deploy: Deploy, postgres_database: str, namespace: str, slack: FakeSlack, smtp: SmtpSink
) -> Deployment:
    """The product on the shared PostgreSQL and Redis (in `namespace`), alerting the
    local Slack and SMTP servers."""
    return deploy(
        postgres_database,
        f"{REDIS_URL}/0",
        extra_env={TEST_NAMESPACE_ENV: namespace},
        **alerting(slack, smtp),
    )


@pytest.fixture(autouse=True)
def keep_current_celery_app() -> Iterator[None]:
    """Creating or starting an app makes it Celery's current/default one: undo that."""
    saved = (_state.default_app, _state._tls.current_app)  # no public API restores both
    yield
    _state.set_default_app(saved[0])
    _state._tls.current_app = saved[1]
