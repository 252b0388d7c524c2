"""`ied-workflow serve` as a real process on a free port, spoken to over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ied_workflow.db import engines
from ied_workflow.workflow import Workflow
from tests.support.api_client import SECRET
from tests.support.net import free_port
from tests.support.settings import build_settings

STARTUP_SECONDS = 30


def environment(**values: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
    return {**clean, **values}


@contextmanager
def serving(database_url: str, cwd: Path, *args: str) -> Iterator[str]:
    """The server's base URL while it runs; it is stopped (killed if need be) afterwards."""
    port = free_port()
    env = environment(IED_DATABASE_URL=database_url, IED_SECRET_KEY=SECRET)
    command = [sys.executable, "-m", "ied_workflow", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"serve exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"serve did not answer /healthz within {STARTUP_SECONDS} s")


def test_served_api_works_end_to_end_over_http(database_url: str, tmp_path: Path) -> None:
    wf = Workflow(engines.make_engine(database_url), build_settings(database_url))
    wf.add_user("ops@ied.example", role="operator")
    token = wf.create_token("ops@ied.example", name="server test").token
    wf.engine.dispose()
    auth = {"Authorization": f"Bearer {token}"}
    with (
        serving(database_url, tmp_path, "--workers", "2") as base,
        httpx.Client(base_url=base, headers=auth) as http,
    ):
        assert http.get("/readyz").json() == {"status": "ready"}
        http.put("/api/v1/leads/L-1", json={"status": "assigned", "installerId": "I-7"})
        created = http.post("/api/v1/follow-ups", json={"leadId": "L-1", "notes": "<!channel> é"})
        assert created.status_code == 201, created.text
        location, etag = created.headers["Location"], created.headers["ETag"]
        started = http.post(f"{location}/start", headers={"If-Match": etag})
        assert (started.status_code, started.json()["status"]) == (200, "in_progress")
        stale = http.post(f"{location}/start", headers={"If-Match": etag})
        assert (stale.status_code, stale.headers["content-type"]) == (
            412,
            "application/problem+json",
        )
        assert http.get(location).json()["notes"] == "<!channel> é"
        assert httpx.get(f"{base}/api/v1/dashboard").status_code == 401
        assert "ied_follow_ups" in httpx.get(f"{base}/metrics").text


def test_serve_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ied_workflow", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == "error: IED_SECRET_KEY is not set: `serve` needs a long random secret\n"
