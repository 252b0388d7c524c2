"""The fault-injection tests' figures, shown at the end of the run.

Outages are staged only on private servers (`private_redis`, a redis-server per test;
`private_postgres`, a PostgreSQL cluster per module; both in tests/conftest.py); the
shared PostgreSQL only hosts scratch databases. A missing binary or service fails the
test in CI and skips it elsewhere.
"""

from __future__ import annotations

import pytest

from tests.support.faults import RECORDED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the figures the fault tests measured (also in bench-results/reliability/)."""
    if not RECORDED:
        return
    terminalreporter.section("reliability figures")
    for test, figures in RECORDED.items():
        shown = ", ".join(f"{name}={value}" for name, value in figures.items())
        terminalreporter.write_line(f"{test}: {shown}")
