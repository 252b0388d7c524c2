"""The HTTP benchmark's server ends with its run, even a failed one, and leaves no account.

No timing is asserted here.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from benchmarks import http, web_server
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


def test_a_missing_wrk_fails_in_one_line_naming_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given no wrk where the benchmark looks for it
    monkeypatch.setattr(http, "WRK", tmp_path / "wrk")
    # When the http part starts, Then it says how to install it, and installs nothing
    with pytest.raises(RuntimeError, match=r"apt-get install -y wrk"):
        http.require_wrk()
