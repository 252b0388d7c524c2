"""Subprocesses the tests start: their environments, and Celery worker and beat processes.

Servers (redis-server, PostgreSQL) run on the real clock as in production, so their
environment loses libfaketime (`faketime '+365 days' scripts/test` preloads it, and
redis-server deadlocks under it). The product's processes keep the faked clock: the
clock is what such a run tests. Every process starts in a process group of its own, so
that one killpg reaches whatever it forked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import psutil
from celery import Celery, _state

from config.celery_app import WORKER_OPTIONS, make_app
from config.settings import Settings
from tests.support.waiting import pause, wait_until

ROOT = Path(__file__).resolve().parents[2]
_FAKETIME_VARIABLES = ("FAKETIME", "DONT_FAKE_MONOTONIC", "NO_FAKE_STAT")


def server_environ() -> dict[str, str]:
    """This process's environment without libfaketime: LD_PRELOAD's faketime library and
    the FAKETIME* variables go, so a server started with it runs on the real clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FAKETIME_VARIABLES)}
    kept = [lib for lib in env.pop("LD_PRELOAD", "").split() if "faketime" not in lib]
    return env | ({"LD_PRELOAD": " ".join(kept)} if kept else {})


def product_environ(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment (faked clock included) with its IED_* variables replaced
    by `env`, for a product process that must read exactly the test's settings."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
    return inherited | dict(env) | {"PYTHONUNBUFFERED": "1"}


def kill_group(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGKILL) -> None:
    """Signal the process group `process` leads (started with start_new_session=True)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)  # pid == pgid


class CeleryProcess:
    """`celery -A app worker|beat` as a subprocess in its own process group, logging to a file.

    Configured only through IED_* variables in `env`, as in production; a worker runs
    with the documented WORKER_OPTIONS, so every test exercises the production command.
    """

    def __init__(
        self, role: str, env: Mapping[str, str], log: Path, *args: str, app: str = "workers"
    ) -> None:
        self.role, self.env, self.log, self.args, self.app = role, dict(env), log, args, app
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        # A supervisor thread and the test may start the same process at once: one at a
        # time, so that a restart always replaces the process instead of orphaning one.
        self._lock = threading.RLock()

    def start(self) -> CeleryProcess:
        """Start (again, after a kill), appending to the same log."""
        with self._lock:
            return self._start()

    def restart_if_dead(self) -> bool:
        """Start again a process that was started and has exited; True if it was."""
        with self._lock:
            if self.starts == 0 or self.running():  # not started yet: not ours to start
                return False
            self._start()
            return True

    def _start(self) -> CeleryProcess:
        self.stop()  # never two of one: a restart replaces the process
        options = WORKER_OPTIONS if self.role == "worker" else ()
        command = [sys.executable, "-m", "celery", "-A", self.app, self.role,
                   "--loglevel=INFO", *options, *self.args]  # fmt: skip
        with self.log.open("ab") as output:
            output.write(f"\n=== start {self.starts + 1} ===\n".encode())
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,  # `workers` imports from the checkout, as `celery -A workers` does
                env=product_environ(self.env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # pid == pgid: one killpg reaches the pool children
            )
        self.starts += 1
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 30) -> None:
        """The worker said `ready.` (a beat, that it is starting) since the last start;
        a process that never gets there is stopped."""
        marker = " ready." if self.role == "worker" else "beat: Starting..."
        try:
            wait_until(
                lambda: marker in self._this_run() or not self.running(), timeout, f"{self.role} up"
            )
            assert self.running(), f"{self.role} exited early:\n{self.output()[-3000:]}"
        except BaseException:
            self.stop()
            raise

    def fatal_lines(self) -> list[str]:
        """The log lines saying why the process gave up (Celery logs them as CRITICAL)."""
        return [line for line in self.output().splitlines() if "CRITICAL/" in line]

    def pool_children(self) -> list[int]:
        """Pids of the processes the worker forked (its prefork pool, an embedded beat)."""
        assert self.process is not None
        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def kill(self) -> None:
        """SIGKILL the whole group: the main process and every pool child."""
        with self._lock:
            self._kill()

    def _kill(self) -> None:
        if self.process is not None:
            kill_group(self.process)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL for whatever is left of the group."""
        with self._lock:
            self._stop(timeout)

    def _stop(self, timeout: float) -> None:
        if self.process is None:
            return
        # To the main process only: it lets the pool finish its tasks (a pool child that
        # got SIGTERM itself would die mid-task, logging WorkerLostError).
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        kill_group(self.process)  # a pool child left behind, or a shutdown too slow
        self.process.wait(timeout=10)

    def _this_run(self) -> str:
        return self.output().rsplit(f"=== start {self.starts} ===", 1)[-1]


@contextlib.contextmanager
def celery_processes(*processes: CeleryProcess) -> Iterator[tuple[CeleryProcess, ...]]:
    """Stop every process on the way out; show their logs' tails if the test failed."""
    try:
        yield processes
    except BaseException:
        show_logs(processes)
        raise
    finally:
        stop_all(processes)


def show_logs(processes: Sequence[CeleryProcess]) -> None:
    """Print the tail of each log (pytest shows it when the test fails)."""
    for process in processes:
        print(f"--- {process.role} log ({process.log}) ---\n{process.output()[-4000:]}")


def stop_all(processes: Sequence[CeleryProcess]) -> None:
    """Stop each process, even when stopping another one fails."""
    errors = []
    for process in processes:
        try:
            process.stop()
        except Exception as exc:  # keep stopping the others
            errors.append(exc)
    if errors:
        raise errors[0]


@contextlib.contextmanager
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


class Supervisor:
    """Restarts any of `processes` that exits, as docker-compose's `restart: unless-stopped`."""

    def __init__(self, *processes: CeleryProcess, every: float = 0.5) -> None:
        self.processes, self.every = processes, every
        self.restarts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # no restart once __exit__ has begun
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Supervisor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._stop.set()
        wait_until(lambda: not self._thread.is_alive(), 30, "supervisor stopped", every=0.02)

    def _watch(self) -> None:
        while not self._stop.is_set():
            pause(self.every, self._stop)
            for process in self.processes:
                with self._lock:
                    if not self._stop.is_set() and process.restart_if_dead():
                        self.restarts[process.role] += 1
