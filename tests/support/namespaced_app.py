"""`celery -A tests.support.namespaced_app`: the product's app in one test's Redis namespace.

Identical to `celery -A workers` except for the queue, kombu key prefix and redbeat key
prefix, which the product fixes and which other sessions on the same Redis also use.
The namespace comes from IED_TEST_NAMESPACE, set by the test that starts the worker.
"""

from __future__ import annotations

import os

from config.celery_app import make_app
from tests.support.redis_namespaces import TEST_NAMESPACE_ENV, namespaced

app = namespaced(make_app(), os.environ[TEST_NAMESPACE_ENV])
