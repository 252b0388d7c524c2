"""Private servers for the fault tests: a redis-server and a PostgreSQL cluster to break.

The shared PostgreSQL and Redis serve other test sessions, so every outage is staged on
a server of the test's own, started on a free port and restarted on the same one. Both
run on the real clock (`server_environ`), and a server that fails to start is killed
before the error is raised.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import redis

from tests.support.daemons import allow_daemon, end_daemon
from tests.support.net import free_port
from tests.support.processes import server_environ
from tests.support.waiting import wait_until

PG_BIN = Path(os.environ.get("IED_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class ServiceMissing(Exception):
    """Raised when a binary a private server needs is not installed."""


class PrivateRedis:
    """A redis-server of our own, without persistence, that a test may SIGKILL and restart."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceMissing("redis-server is not on PATH")
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on the same port as before and wait until it answers PING."""
        self.kill()
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
                env=server_environ(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            wait_until(self._answers, 10, f"private redis on port {self.port}", every=0.02)
        except BaseException:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: the data goes with it, as when a Redis without persistence crashes."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2)

    def _answers(self) -> bool:
        assert self.process is not None and self.process.poll() is None, "redis-server died"
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb'd in a temp dir) that a test may crash.

    pg_ctl detaches the postmaster from us, so its name (cluster_name, in the command line
    of every process of the cluster) is given to the leak check, which fails the run if
    one of them outlives `remove()`.
    """

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise ServiceMissing(f"PostgreSQL binaries not found in {PG_BIN}")
        self.dir = Path(tempfile.mkdtemp(prefix="ied-faults-pg-"))
        self.port = free_port()
        self.name = f"ied-test-{uuid.uuid4().hex[:10]}"
        try:
            if os.geteuid() == 0:  # PostgreSQL refuses to run as root
                self._chown()
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        allow_daemon(self.name)

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start on the same port; a cluster that does not come up is stopped, then raised."""
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
                   f" -c cluster_name={self.name}")  # fmt: skip
        try:
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                      "-w", "start")  # fmt: skip
        except BaseException:
            self._kill_postmaster()
            raise

    def crash(self) -> None:
        """Stop at once, without a checkpoint: what a crash or a kill -9 leaves behind."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # name chosen by the test, not input
        return self.url(name)

    def remove(self) -> None:
        """Stop the cluster however it can be stopped, and delete its files."""
        try:
            if (self.data / "postmaster.pid").exists():
                try:
                    self.crash()
                except AssertionError:
                    self._kill_postmaster()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            end_daemon(self.name)

    def _kill_postmaster(self) -> None:
        """SIGKILL the postmaster named in postmaster.pid (its children then exit)."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)

    def _chown(self) -> None:
        try:
            shutil.chown(self.dir, user="postgres")
        except LookupError as exc:
            raise ServiceMissing("no postgres user to run PostgreSQL as") from exc

    def _run(self, tool: str, *args: str) -> None:
        command = [str(PG_BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, env=server_environ(), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{tool} failed:\n{done.stdout}\n{done.stderr}"
