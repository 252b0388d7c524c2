"""The HTTP benchmark's server ends with its run, even a failed one, and leaves no account.

No timing is asserted here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from benchmarks import http, web_server
from benchmarks.bench_rows import make_follow_ups
from benchmarks.common import libpq_url
from ied_workflow.db import migrate
from tests.support.shared_servers import scratch_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with scratch_postgres_database() as found:
        migrate.upgrade(found)
        yield found


def test_a_failed_run_stops_the_server_and_removes_its_operator(url: str) -> None:
    # Given the server running for a benchmark that signs in through the console
    with (
        pytest.raises(RuntimeError, match="the benchmark failed"),
        web_server.running(url) as server,
    ):
        base = server.base
        assert server.cookie.startswith("ied_console=")
        # When the benchmark fails while the server runs
        raise RuntimeError("the benchmark failed")
    # Then the server answers no more
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/healthz", timeout=2)
    # And its operator and token are gone from the database
    with psycopg.connect(libpq_url(url)) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM api_tokens").fetchone() == (0,)


def test_the_least_app_reads_each_requests_token(url: str) -> None:
    # Given a fresh follow-up, and the least app serving the API's writes
    (follow_up,) = make_follow_ups(url, 1)
    with web_server.least_app(url) as server:
        start = f"{server.base}/api/v1/follow-ups/{follow_up}/start"
        before = _actors(url, follow_up)
        # When a request sends a token that was never issued
        with pytest.raises(urllib.error.HTTPError) as refused:
            _post(start, "Bearer not-a-token")
        # Then it is refused (a 500: the least app has no problem documents) and changes nothing
        assert refused.value.code == 500
        assert _actors(url, follow_up) == before
        # When it sends the operator's token, Then the follow-up starts in the operator's name
        assert json.loads(_post(start, server.authorization))["status"] == "in_progress"
        assert _actors(url, follow_up)[-1].startswith("bench-http-")


def _actors(url: str, follow_up_id: int) -> list[str]:
    """Who each of the follow-up's audit events names, oldest first."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT actor_email FROM events WHERE follow_up_id = %s ORDER BY id", (follow_up_id,)
        ).fetchall()
    return [actor for (actor,) in rows]


def _post(url: str, authorization: str) -> bytes:
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    request = urllib.request.Request(url, b"{}", headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        body: bytes = answer.read()
        return body


def test_a_missing_wrk_fails_in_one_line_naming_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given no wrk where the benchmark looks for it
    monkeypatch.setattr(http, "WRK", tmp_path / "wrk")
    # When the http part starts, Then it says how to install it, and installs nothing
    with pytest.raises(RuntimeError, match=r"apt-get install -y wrk"):
        http.require_wrk()
