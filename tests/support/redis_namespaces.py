"""Redis namespaces for the worker tests on the shared Redis server.

Other test sessions share the Redis server, so each test puts its queue, every kombu
key and the redbeat keys under a namespace of its own, deleted afterwards.
"""

from __future__ import annotations

import uuid

import redis
from celery import Celery

TEST_NAMESPACE_ENV = "IED_TEST_NAMESPACE"  # read by tests.support.namespaced_app


def new_namespace() -> str:
    return f"ied-test-{uuid.uuid4().hex[:12]}"


def namespaced(app: Celery, namespace: str) -> Celery:
    """The product's app with its queue, kombu keys and redbeat keys under `namespace`.

    The product fixes the queue ("ied") and the redbeat prefix ("ied:redbeat");
    this changes those three settings and nothing else.
    """
    transport = dict(app.conf.broker_transport_options or {})
    app.conf.update(
        task_default_queue=namespace,
        broker_transport_options=transport | {"global_keyprefix": f"{namespace}:"},
        redbeat_key_prefix=f"{namespace}:redbeat",
    )
    return app


def forget_namespace(client: redis.Redis, namespace: str) -> int:
    """Delete every key naming this namespace (kombu's bindings of a `-Q` queue too)."""
    keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
    return int(client.delete(*keys)) if keys else 0
