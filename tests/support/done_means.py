"""Done means: a worker with embedded beat alerts each follow-up that goes overdue, once.

Run by tests/worker/test_done_means.py, and by hand for a transcript:

    python -m tests.support.done_means

which makes its own scratch PostgreSQL database, local Slack webhook and SMTP servers,
starts `celery worker -B` (scan every 2 s, dispatch every 1 s), lets follow-ups go
overdue, keeps watching for three more scans, and prints what arrived.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ied_workflow.db import migrate
from tests.support.data import delivery_rows, overdue_follow_ups
from tests.support.deployment import alerting, deployments
from tests.support.redis_namespaces import TEST_NAMESPACE_ENV, forget_namespace, new_namespace
from tests.support.shared_servers import REDIS_URL, redis_client, scratch_postgres_database
from tests.support.slack import FakeSlack, SlackPost
from tests.support.smtp import Email, SmtpSink

SCAN_SECONDS = 2
DISPATCH_SECONDS = 1
FOLLOW_UPS = 5
DUE_IN = timedelta(seconds=2)  # they go overdue while the worker runs
WATCH_SCANS = 3  # scans after the first alert that must not alert again
APP = "tests.support.namespaced_app"  # `workers` in its own Redis namespace


@dataclass
class Report:
    """What the servers received while the worker and its beat ran."""

    command: str
    settings: dict[str, str]  # the IED_* values that are not addresses
    follow_up_ids: list[int]
    due_at: datetime
    slack: list[SlackPost]
    emails: list[Email]
    outbox: list[dict[str, Any]]
    worker_log: str

    def overdue_posts(self) -> list[SlackPost]:
        return [post for post in self.slack if "overdue" in post.title]

    def overdue_emails(self) -> list[Email]:
        return [email for email in self.emails if "overdue" in email.subject]

    def seconds_after_due(self, at: float) -> float:
        return at - self.due_at.timestamp()

    def busy_log_lines(self) -> list[str]:
        """The worker's log lines of scans that wrote alerts and dispatches that sent some."""
        idle = ("'alertsWritten': 0", "'messages': {}")
        return [
            line
            for line in self.worker_log.splitlines()
            if " succeeded in " in line and not any(mark in line for mark in idle)
        ]

    def transcript(self) -> str:
        lines = [
            "$ " + " ".join(f"{k}={v}" for k, v in self.settings.items()) + " \\",
            f"  {self.command}",
            f"follow-ups {self.follow_up_ids} due at {self.due_at:%H:%M:%S} UTC",
            *(
                f"slack  +{self.seconds_after_due(p.at):.1f} s after due: {p.title!r} "
                f"ids={sorted(p.follow_up_ids)}"
                for p in self.slack
            ),
            *(
                f"smtp   +{self.seconds_after_due(e.at):.1f} s after due: {e.subject!r} "
                f"ids={sorted(e.follow_up_ids)} to={e.rcpt_tos}"
                for e in self.emails
            ),
            "outbox: "
            + ", ".join(f"{r['channel']}#{r['follow_up_id']}={r['status']}" for r in self.outbox),
            "worker log, busy tasks only:",
            *(f"  {line}" for line in self.busy_log_lines()),
        ]
        return "\n".join(lines)


def run(
    database_url: str, namespace: str, folder: Path, slack: FakeSlack, smtp: SmtpSink
) -> Report:
    """Start `celery worker -B`, let follow-ups go overdue, watch; stop the worker."""
    digest_at = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")  # not during the run
    args = ["-B", f"--schedule={folder / 'beat-schedule'}", "--without-mingle", "--without-gossip"]
    with deployments(folder) as deploy:
        deployment = deploy(
            database_url,
            f"{REDIS_URL}/0",
            extra_env={TEST_NAMESPACE_ENV: namespace},
            scan_interval_seconds=SCAN_SECONDS,
            dispatch_interval_seconds=DISPATCH_SECONDS,
            digest_at=digest_at,
            **alerting(slack, smtp),
        )
        worker = deployment.celery("worker", *args, app=APP).start()
        worker.wait_ready()
        due_at = deployment.workflow.now() + DUE_IN
        made = overdue_follow_ups(deployment.workflow, FOLLOW_UPS, due_at)
        slack.wait_for(1, timeout=30)
        smtp.emails.wait_for(1, timeout=30)
        time.sleep(WATCH_SCANS * SCAN_SECONDS)
        worker.stop()
        outbox = delivery_rows(deployment.workflow)
    shown = ("IED_SCAN_INTERVAL_SECONDS", "IED_DISPATCH_INTERVAL_SECONDS", "IED_DIGEST_AT")
    return Report(
        command=f"celery -A {APP} worker --loglevel=INFO {shlex.join(args)}",
        settings={k: v for k, v in deployment.env.items() if k in shown or k == TEST_NAMESPACE_ENV},
        follow_up_ids=sorted(f.id for f in made),
        due_at=due_at,
        slack=slack.posts.all(),
        emails=smtp.emails.all(),
        outbox=outbox,
        worker_log=worker.output(),
    )


def main() -> None:
    """Run the scenario against fresh services and print the transcript."""
    client = redis_client()
    namespace = new_namespace()
    with (
        scratch_postgres_database() as url,
        FakeSlack() as slack,
        SmtpSink() as smtp,
        tempfile.TemporaryDirectory() as folder,
    ):
        migrate.upgrade(url)
        try:
            report = run(url, namespace, Path(folder), slack, smtp)
        finally:
            forget_namespace(client, namespace)
    print(report.transcript())
    alerted_once = len(report.overdue_posts()) == 1 and len(report.overdue_emails()) == 1
    print("exactly one alert per channel:", alerted_once)
    sys.exit(0 if alerted_once else 1)


if __name__ == "__main__":
    main()
