"""pytest plugin: a test that leaves a process running fails (an error at its teardown).

After each test's teardown (its module's and session's fixtures too, when they end
there), it looks for processes of this session still alive:
- descendants of the pytest process (Celery workers and their pool, redis-server, ...);
- processes that escaped the tree (parent gone, now a child of pid 1) but still carry
  this session's mark in their environment: every subprocess inherits it;
- processes of a detached server (PostgreSQL, started by pg_ctl) whose owner has ended;
  those servers clobber their environment, so they are known by a name in their command
  line, registered in tests/support/daemons.py.
Strays are SIGKILLed after being reported, so one leak does not spoil the next tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator

import psutil
import pytest

from tests.support.daemons import ENDED as _ENDED_DAEMONS
from tests.support.daemons import OPEN as _OPEN_DAEMONS

MARK = "PYTEST_IED_SESSION_PID"  # no IED_ prefix: product_environ replaces those
GRACE_SECONDS = 3.0  # a process killed a moment ago may still be exiting


def strays() -> list[psutil.Process]:
    """Processes this session started that are still running and belong to no live server."""
    me = psutil.Process()
    since = me.create_time() - 1  # psutil's clock: the real one even under libfaketime
    found = []
    for process in psutil.process_iter(["ppid", "create_time", "status"]):
        info = process.info
        if process.pid == me.pid or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if info["create_time"] is None or info["create_time"] < since:
            continue
        if _ours(process, me.pid) and not _allowed(process, me.pid):
            found.append(process)
    return found


def _ours(process: psutil.Process, me: int) -> bool:
    try:
        if any(parent.pid == me for parent in process.parents()):
            return True
        if process.environ().get(MARK) == str(me):
            return True
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(name in command for name in _ENDED_DAEMONS)


def _allowed(process: psutil.Process, me: int) -> bool:
    """Live servers, and multiprocessing's resource tracker (it lives as long as pytest)."""
    try:
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return True
    tracker = "multiprocessing.resource_tracker" in command and process.ppid() == me
    return tracker or any(name in command for name in _OPEN_DAEMONS)


def strays_after_grace() -> list[psutil.Process]:
    deadline = time.monotonic() + GRACE_SECONDS
    found = strays()
    while found and time.monotonic() < deadline:
        time.sleep(0.1)
        found = strays()
    return found


def describe_and_kill(found: list[psutil.Process]) -> str:
    lines = []
    for process in found:
        try:
            command = " ".join(process.cmdline())[:200]
            lines.append(f"  pid {process.pid} (parent {process.ppid()}): {command}")
            process.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    psutil.wait_procs(found, timeout=5)
    return "\n".join(lines)


def pytest_configure(config: pytest.Config) -> None:
    os.environ[MARK] = str(os.getpid())  # inherited by every subprocess, whoever starts it


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        found = strays_after_grace()
        if found:
            shown = describe_and_kill(found)
            pytest.fail(
                f"{item.nodeid} left {len(found)} process(es) running:\n{shown}", pytrace=False
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    found = strays_after_grace()
    if found:
        shown = describe_and_kill(found)
        session.config.get_terminal_writer().line(f"processes left running:\n{shown}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
