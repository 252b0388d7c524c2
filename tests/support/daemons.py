"""Detached servers (pg_ctl's postmaster) the leak check must know by name.

Such a server leaves the pytest process tree and clobbers its environment, so the leak
check (tests/support/leaks.py) finds its processes by a name in their command line.
"""

from __future__ import annotations

OPEN: set[str] = set()  # servers still in use: their processes are not strays
ENDED: set[str] = set()  # servers stopped: any process of theirs still alive is a stray


def allow_daemon(name: str) -> None:
    """Processes with `name` in their command line belong to a live server: not strays."""
    OPEN.add(name)


def end_daemon(name: str) -> None:
    """The server named `name` was stopped: any process of it still alive is a stray."""
    OPEN.discard(name)
    ENDED.add(name)
