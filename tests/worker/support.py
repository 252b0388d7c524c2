"""Helpers for the worker tests: Redis namespaces, worker subprocesses, outbox reads.

Other test sessions share the Redis server, so each test puts its queue, every kombu
key and the redbeat keys under a namespace of its own, deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import redis
from celery import Celery
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy import Engine, select, text

from config.settings import Settings
from ied_workflow import tables
from ied_workflow.domain import FollowUp
from ied_workflow.tables import metadata
from ied_workflow.workflow import Workflow
from tests.fakes import SlackWebhook, SmtpServer
from tests.services import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
OPS = "ops@ied.example"
OPS_EMAILS = "ops-team@ied.example,night-desk@ied.example"
TEST_NAMESPACE_ENV = "IED_TEST_NAMESPACE"  # read by tests.worker.namespaced_app


def new_namespace() -> str:
    return f"ied-test-{uuid.uuid4().hex[:12]}"


def namespaced(app: Celery, namespace: str) -> Celery:
    """The product's app with its queue, kombu keys and redbeat keys under `namespace`.

    The product fixes the queue ("ied") and the redbeat prefix ("ied:redbeat");
    this changes those three settings and nothing else.
    """
    transport = dict(app.conf.broker_transport_options or {})
    app.conf.update(
        task_default_queue=namespace,
        broker_transport_options=transport | {"global_keyprefix": f"{namespace}:"},
        redbeat_key_prefix=f"{namespace}:redbeat",
    )
    return app


def forget_namespace(client: redis.Redis, namespace: str) -> int:
    """Delete every key naming this namespace (kombu's bindings of a `-Q` queue too)."""
    keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
    return int(client.delete(*keys)) if keys else 0


def ied_env(
    database_url: str, slack: SlackWebhook, smtp: SmtpServer, **overrides: str
) -> dict[str, str]:
    """The IED_* settings pointing a worker at these services."""
    env = {
        "IED_DATABASE_URL": database_url,
        "IED_REDIS_URL": f"{REDIS_URL}/0",
        "IED_SLACK_WEBHOOK_URL": slack.url,
        "IED_SMTP_HOST": smtp.host,
        "IED_SMTP_PORT": str(smtp.port),
        "IED_OPS_EMAILS": OPS_EMAILS,
        "IED_EMAIL_FROM": "ied-workflow@ied.example",
    }
    return env | {f"IED_{name.upper()}": value for name, value in overrides.items()}


class _GivenSettings(Settings):
    """Settings from the given values alone: not this process's environment, no .env file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_from(env: Mapping[str, str]) -> Settings:
    """The Settings a worker started with exactly the IED_* variables of `env` reads."""
    values = {name.removeprefix("IED_").lower(): value for name, value in env.items()}
    return _GivenSettings.model_validate(values)


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    """Poll `check` until it holds; fail saying `what` did not happen in time."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)


class WorkerProcess:
    """A `celery worker` subprocess in a process group of its own, logging to a file."""

    def __init__(self, app: str, args: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.log = log
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", app, "worker", "--loglevel=INFO", *args],
                cwd=ROOT,
                env=inherited | dict(env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its pool children and beat share its group id
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait for Celery's "ready." line; a worker that never gets there is stopped."""
        try:
            wait_until(lambda: " ready." in self.output() or not self.running(), timeout, "ready")
            assert self.running(), f"worker exited early:\n{self.output()[-3000:]}"
        except BaseException:
            self.stop()
            raise

    def pool_children(self) -> list[int]:
        """Pids of the processes the worker forked (its prefork pool, an embedded beat)."""
        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def kill(self) -> None:
        """SIGKILL the whole group: main process, pool children, embedded beat."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL if it takes too long."""
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._signal_group(signal.SIGKILL)  # a pool child or beat left behind

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)  # our own group: pid == pgid


def overdue_follow_ups(
    workflow: Workflow, count: int, due_at: datetime, *, first: int = 1
) -> list[FollowUp]:
    """`count` follow-ups on fresh leads, all due at `due_at`."""
    made = []
    for number in range(first, first + count):
        lead = f"L-{number}"
        workflow.upsert_lead(lead, status="assigned", installer_id=f"INST-{number}")
        made.append(workflow.create(lead, by=OPS, due_at=due_at))
    return made


def outbox(engine: Engine) -> list[dict[str, Any]]:
    """Every outbox row, oldest first."""
    n = tables.notifications
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(n).order_by(n.c.id))]


def all_sent(engine: Engine) -> bool:
    rows = outbox(engine)
    return bool(rows) and all(row["status"] == "sent" for row in rows)


def duplicates(ids: Iterable[int]) -> int:
    """How many mentions beyond the first each id got."""
    return sum(seen - 1 for seen in Counter(ids).values())


def empty_tables(engine: Engine) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))  # fixed table names
