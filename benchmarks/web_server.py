"""`ied-workflow serve` as a subprocess for the HTTP benchmarks, and its bench accounts.

The server runs as production runs it: the `serve` command, a real socket, IED_* settings
only (the bench database, a secret key), uvicorn's access log on. It lives in a process
group of its own and `running` always ends that group, even when the benchmark fails.
`least_app` serves `benchmarks.least_app` (the least app serving the writes) the same way.
"""

from __future__ import annotations

import contextlib
import html.parser
import http.cookiejar
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchmarks.common import bench_settings, libpq_url
from ied_workflow.web.console.session import COOKIE
from ied_workflow.workflow import Workflow

# 2 cores: one worker process per core. Each worker is one Python process (one GIL);
# PostgreSQL and wrk share the same cores, so more workers would only queue for them.
WORKERS = 2
ROOT = Path(__file__).resolve().parent.parent  # benchmarks.least_app is not installed
BENCH_EMAIL = "bench-http-{}@ied.example"  # one operator per run, removed after it
STARTUP_SECONDS = 60


@dataclass(frozen=True)
class Server:
    """A running server: where it listens and how to speak for the bench operator."""

    base: str
    authorization: str  # "Bearer ...", an operator's API token
    cookie: str  # "ied_console=...", the operator signed in to the console


@contextlib.contextmanager
def running(url: str) -> Iterator[Server]:
    """`ied-workflow serve` on `url` with a fresh operator; stopped and cleaned up after."""
    serve = ["-m", "ied_workflow", "serve", "--workers", str(WORKERS)]
    with _operator(url) as (email, password, token), _serve(serve, url) as base:
        yield Server(base, f"Bearer {token}", _sign_in(base, email, password))


@contextlib.contextmanager
def least_app(url: str) -> Iterator[Server]:
    """`benchmarks.least_app` on `url`, served as `serve` serves the product, with a fresh
    operator's token; it has no console, so no cookie."""
    least = ["-m", "benchmarks.least_app", "--workers", str(WORKERS)]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with _operator(url) as (_, _, token), _serve(least, url, {"PYTHONPATH": path}) as base:
        yield Server(base, f"Bearer {token}", "")


@contextlib.contextmanager
def _operator(url: str) -> Iterator[tuple[str, str, str]]:
    """A fresh operator for one server: email, password and API token; removed after."""
    email = BENCH_EMAIL.format(secrets.token_hex(4))
    password = secrets.token_urlsafe(16)
    wf = Workflow.from_settings(bench_settings(url))
    try:
        try:
            wf.add_user(email, role="operator", password=password)
            token = wf.create_token(email, name="benchmarks.http").token
        finally:
            wf.engine.dispose()
        yield email, password, token
    finally:
        remove_account(url, email)  # also when the token could not be made


def remove_account(url: str, email: str) -> None:
    """Delete the bench operator and its tokens (nothing else refers to a user)."""
    with psycopg.connect(libpq_url(url)) as conn:
        user = "SELECT id FROM users WHERE email = %s"
        conn.execute(f"DELETE FROM api_tokens WHERE user_id IN ({user})", (email,))
        conn.execute("DELETE FROM users WHERE email = %s", (email,))


@contextlib.contextmanager
def _serve(arguments: list[str], url: str, env_more: dict[str, str] | None = None) -> Iterator[str]:
    """`python ARGUMENTS --port P` in a home and a process group of its own, once it
    answers /readyz; the group is stopped after."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
    env |= {
        "IED_DATABASE_URL": url,
        "IED_SECRET_KEY": secrets.token_urlsafe(48),
        "PYTHONUNBUFFERED": "1",
    } | (env_more or {})
    command = [sys.executable, *arguments, "--port", str(port)]
    with tempfile.TemporaryDirectory(prefix="ied-http-bench-") as home:
        log = Path(home) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # one group: stopping it reaches every worker
            )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, process, log)
            yield base
        finally:
            _stop(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until /readyz answers 200; the log's tail when the server died or never answered."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {_tail(log)}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server was not ready in {STARTUP_SECONDS} s: {_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group (uvicorn shuts its workers down), SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)  # pid == pgid (start_new_session)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
            _reap_group(process.pid)
            return
    raise RuntimeError(f"the server (pid {process.pid}) did not stop")


def _reap_group(pgid: int) -> None:
    """Wait until no process of the group is left (workers exit after their parent)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


class _CsrfField(html.parser.HTMLParser):
    """The login form's hidden csrf_token value."""

    token = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("name") == "csrf_token":
            self.token = fields.get("value") or ""


def _sign_in(base: str, email: str, password: str) -> str:
    """Sign in through the console's login form (with its CSRF token); the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/login", timeout=10) as page:
        parser = _CsrfField()
        parser.feed(page.read().decode())
    form = {"email": email, "password": password, "next": "/", "csrf_token": parser.token}
    data = urllib.parse.urlencode(form).encode()
    with opener.open(f"{base}/login", data=data, timeout=30) as landed:
        if landed.status != 200 or urllib.parse.urlsplit(landed.url).path != "/":
            raise RuntimeError(f"console sign-in failed: {landed.status} at {landed.url}")
    session = [cookie.value for cookie in jar if cookie.name == COOKIE]
    if not session:
        raise RuntimeError("console sign-in gave no session cookie")
    return f"{COOKIE}={session[-1]}"
