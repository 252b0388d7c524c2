"""Fixtures of the reliability tests, borrowed from their home directories.

The in-process CLI runner (tests/cli) and the real Slack-webhook and SMTP test servers
(tests/notify) are re-exported here so that pytest finds them for tests/reliability.
"""

from __future__ import annotations

from tests.cli.conftest import cli  # noqa: F401 - fixture
from tests.notify.conftest import closed_port, slack, smtp_factory  # noqa: F401 - fixtures
