"""The product deployed for one test: its settings, its processes' environment, a Workflow.

One place builds what the worker and fault tests all need: Settings for the test's side,
the same settings as IED_* variables for `celery worker|beat`, and teardown that stops
every process and disposes of the engine, whatever the test did.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery

from config.settings import Settings
from ied_workflow.workflow import Workflow
from tests.support.data import OPS_EMAILS
from tests.support.processes import CeleryProcess, broker, show_logs, stop_all
from tests.support.settings import build_settings, settings_environ
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink


@dataclass
class Deployment:
    """Settings shared by the test and the Celery processes it starts in `folder`."""

    settings: Settings
    folder: Path
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. a Redis namespace
    processes: list[CeleryProcess] = field(default_factory=list)
    workflow: Workflow = field(init=False)

    def __post_init__(self) -> None:
        self.workflow = Workflow.from_settings(self.settings)

    @property
    def env(self) -> dict[str, str]:
        """The IED_* variables (and extras) a product process is started with."""
        return settings_environ(self.settings) | self.extra_env

    def celery(
        self, role: str, *args: str, log: str | None = None, app: str = "workers"
    ) -> CeleryProcess:
        """A `celery -A app worker|beat` process, not started yet, stopped at teardown."""
        log_file = self.folder / (log or f"{role}.log")
        process = CeleryProcess(role, self.env, log_file, *args, app=app)
        self.processes.append(process)
        return process

    def broker(self) -> contextlib.AbstractContextManager[Celery]:
        """The product's Celery app on these settings, to send tasks by name."""
        return broker(self.settings)

    def close(self) -> None:
        """Stop every process (showing the logs' tails), then dispose of the engine."""
        try:
            show_logs(self.processes)
            stop_all(self.processes)
        finally:
            self.workflow.engine.dispose()


Deploy = Callable[..., Deployment]


@contextlib.contextmanager
def deployments(folder: Path) -> Iterator[Deploy]:
    """`deploy(database_url, redis_url, extra_env=None, **settings)`; closed on the way out."""
    made: list[Deployment] = []

    def deploy(
        database_url: str,
        redis_url: str,
        extra_env: dict[str, str] | None = None,
        **overrides: Any,
    ) -> Deployment:
        settings = build_settings(database_url, redis_url=redis_url, **overrides)
        made.append(Deployment(settings, folder, dict(extra_env or {})))
        return made[-1]

    try:
        yield deploy
    finally:
        for deployment in made:
            deployment.close()


def alerting(slack: FakeSlack | None = None, smtp: SmtpSink | None = None) -> dict[str, Any]:
    """The settings that send alerts to these local servers (email to OPS_EMAILS)."""
    values: dict[str, Any] = {}
    if slack is not None:
        values["slack_webhook_url"] = slack.url
    if smtp is not None:
        values |= {"smtp_host": smtp.host, "smtp_port": smtp.port, "ops_emails": OPS_EMAILS,
                   "email_from": "ied-workflow@ied.example"}  # fmt: skip
    return values
