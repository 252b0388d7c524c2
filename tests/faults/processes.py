"""Celery worker and beat subprocesses, a restart policy for them, and a task sender.

The processes run `celery -A workers worker|beat` exactly as production does, with
their settings in IED_* variables, each in a process group of its own so that one
SIGKILL reaches the pool children too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from celery import Celery, _state

from config.celery_app import make_app
from config.settings import Settings
from tests.faults.support import ROOT, wait_until


class CeleryProcess:
    """`celery -A workers worker|beat` as a subprocess in its own process group."""

    def __init__(self, role: str, env: Mapping[str, str], log: Path, *args: str) -> None:
        self.role, self.env, self.log, self.args = role, dict(env), log, args
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> CeleryProcess:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
        command = [sys.executable, "-m", "celery", "-A", "workers", self.role,
                   "--loglevel=INFO", *self.args]  # fmt: skip
        with self.log.open("ab") as output:
            output.write(f"\n=== start {self.starts + 1} ===\n".encode())
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,  # `workers` imports from the checkout, as `celery -A workers` does
                env=inherited | self.env | {"PYTHONUNBUFFERED": "1"},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # pid == pgid: one killpg reaches the pool children
            )
        self.starts += 1
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 30) -> None:
        """The worker said `ready.` (the beat, that it is starting) since the last start."""
        marker = " ready." if self.role == "worker" else "beat: Starting..."
        wait_until(
            lambda: marker in self._this_run() or not self.running(), timeout, f"{self.role} up"
        )
        assert self.running(), f"{self.role} exited early:\n{self.output()[-3000:]}"

    def fatal_lines(self) -> list[str]:
        """The log lines saying why the process gave up (Celery logs them as CRITICAL)."""
        return [line for line in self.output().splitlines() if "CRITICAL/" in line]

    def kill(self) -> None:
        """SIGKILL the whole group: the main process and every pool child."""
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """A warm shutdown, then SIGKILL for whatever is left of the group."""
        self._signal(signal.SIGTERM)
        if self.process is not None:
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self._signal(signal.SIGKILL)

    def _this_run(self) -> str:
        return self.output().rsplit(f"=== start {self.starts} ===", 1)[-1]

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


@contextmanager
def celery_processes(*processes: CeleryProcess) -> Iterator[tuple[CeleryProcess, ...]]:
    """Stop every process on the way out; show their logs' tails if the test failed."""
    try:
        yield processes
    except BaseException:
        for process in processes:
            print(f"--- {process.role} log ({process.log}) ---\n{process.output()[-4000:]}")
        raise
    finally:
        for process in processes:
            process.stop()


@contextmanager
def broker(settings: Settings) -> Iterator[Celery]:
    """The product's Celery app on `settings`, for sending tasks by name as beat would."""
    saved = (_state.default_app, _state._tls.current_app)  # creating an app makes it current
    app = make_app(settings)
    try:
        yield app
    finally:
        app.close()
        _state.set_default_app(saved[0])
        _state._tls.current_app = saved[1]


def worker_env(database_url: str, redis_url: str, **overrides: object) -> dict[str, str]:
    """IED_* settings for a subprocess; `notify_batch_size=20` becomes IED_NOTIFY_BATCH_SIZE."""
    env = {"IED_DATABASE_URL": database_url, "IED_REDIS_URL": redis_url}
    return env | {f"IED_{name.upper()}": str(value) for name, value in overrides.items()}


def settings_from(env: Mapping[str, str]) -> Settings:
    """The Settings a process started with `env` reads (no .env file)."""
    values = {name.removeprefix("IED_").lower(): value for name, value in env.items()}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Supervisor:
    """Restarts any of `processes` that exits, as docker-compose's `restart: unless-stopped`."""

    def __init__(self, *processes: CeleryProcess, every: float = 0.5) -> None:
        self.processes, self.every = processes, every
        self.restarts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Supervisor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            for process in self.processes:
                if not process.running():
                    self.restarts[process.role] += 1
                    process.start()
