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
from ied_workflow import db
from tests.services import scratch_postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with scratch_postgres_database() as found:
        db.upgrade(found)
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


def test_the_least_app_reading_tokens_refuses_a_wrong_one_and_acts_as_the_right_ones(
    url: str,
) -> None:
    # Given the least app serving goal 3's writes, told to read each request's token
    (follow_up_id,) = make_follow_ups(url, 1)
    with web_server.least_app(url, reads_token=True) as server:
        start = f"{server.base}/api/v1/follow-ups/{follow_up_id}/start"
        # When a request sends a token that was never issued, Then it is refused (had it
        # started the follow-up, the next start would be refused as a conflict)
        with pytest.raises(urllib.error.HTTPError):
            _post(start, "Bearer not-a-token")
        # When it sends the operator's token, Then the follow-up starts in the operator's name
        answer = json.loads(_post(start, server.authorization))
    assert answer["status"] == "in_progress"
    with psycopg.connect(libpq_url(url)) as conn:
        (actor,) = conn.execute(
            "SELECT actor_email FROM events WHERE follow_up_id = %s ORDER BY id DESC LIMIT 1",
            (follow_up_id,),
        ).fetchone() or (None,)
    assert actor is not None and actor.startswith("bench-http-")


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
