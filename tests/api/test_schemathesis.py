"""schemathesis against the served OpenAPI document, with an admin token: no 5xx, and no
response that breaks the document (status, content type, headers, body schema).

SQLite only, and few examples per operation, to keep it under a minute; the
hand-written tests cover PostgreSQL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case
from schemathesis.specs.openapi import checks as openapi_checks

from ied_workflow.db import engines
from ied_workflow.db.clock import FixedClock
from ied_workflow.web.app import create_app
from ied_workflow.workflow import Workflow
from tests.support.api_client import SECRET
from tests.support.data import NOW
from tests.support.settings import build_settings

EXAMPLES = 25  # per operation: about 10 s for the whole document on SQLite
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]


@pytest.fixture
def fuzzed(tmp_path: Path, sqlite_template: Path) -> tuple[Workflow, str]:
    """A SQLite database with one follow-up of each kind of state, and an admin token."""
    path = tmp_path / "fuzz.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    wf = Workflow(
        engines.make_engine(url), build_settings(url, secret_key=SECRET), clock=FixedClock(NOW)
    )
    wf.add_user("admin@ied.example", role="admin")
    for n in range(1, 4):
        wf.upsert_lead(f"L-{n}", status="assigned", installer_id="I-7")
        wf.create(f"L-{n}", by="admin@ied.example")
    wf.start(2, by="admin@ied.example")
    return wf, wf.create_token("admin@ied.example").token


def test_the_api_keeps_its_openapi_promises(fuzzed: tuple[Workflow, str]) -> None:
    # schemathesis's Python API, not its pytest plugin (whose fixture loader fails on
    # pytest 9): one hypothesis run per operation of the document the app serves.
    wf, token = fuzzed
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(wf))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    for operation in operations:
        _fuzz(operation, token)


def _fuzz(operation: APIOperation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # no example database left in the working tree
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()
