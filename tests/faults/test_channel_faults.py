"""Channel faults through the dispatcher: real HTTP and SMTP servers that misbehave.

Transient faults (Slack 429 with Retry-After, 500, connection refused, timeout; SMTP 4xx,
connection refused) leave the row pending with its attempt counted and its next attempt
in the future, and the row is delivered once that time comes. Permanent faults (Slack
4xx, SMTP 5xx) and transient ones past IED_NOTIFY_MAX_ATTEMPTS end `failed` with the
error, are listed by `ied-workflow notifications list --status failed`, and are
delivered after `ied-workflow notifications retry ID`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from ied_workflow.alerts.channels import Channel, EmailChannel, SlackChannel, channels_from_settings
from ied_workflow.alerts.dispatch import DispatchResult
from ied_workflow.domain import FollowUp
from ied_workflow.workflow import Workflow
from tests.support.cli import Cli
from tests.support.data import NOW, OPS, delivery_rows
from tests.support.faults import record_figures
from tests.support.settings import build_settings
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink

MAX_ATTEMPTS = 3
SLACK_TIMEOUT = 0.5  # seconds; the timeout fault holds its answer longer than this
# Every dispatch here runs at a fixed instant, so a row's next attempt counts from it
# exactly; "before the next attempt" is this much earlier.
EARLIER = timedelta(seconds=1)
FIGURES: dict[str, dict[str, Any]] = {}


@dataclass
class Outbox:
    """One overdue follow-up, alerted by Slack and email, and a dispatcher to drive."""

    workflow: Workflow
    slack: FakeSlack
    smtp: SmtpSink
    follow_up: FollowUp
    broken: dict[str, Channel] = field(default_factory=dict)  # channels replaced by a fault

    def dispatch(self, now: datetime) -> DispatchResult:
        channels = channels_from_settings(self.workflow.settings) | self.broken
        return self.workflow.dispatch(channels, now=now)

    def row(self, channel: str) -> dict[str, Any]:
        (row,) = [r for r in delivery_rows(self.workflow) if r["channel"] == channel]
        return row

    def delivered(self, channel: str) -> int:
        """Posts or emails naming our follow-up that reached the server (answered or not)."""
        mark = f"Follow-up #{self.follow_up.id}"
        if channel == "slack":
            return sum(mark in json.dumps(body) for body in self.slack.bodies)
        return sum(mark in email.text for email in self.smtp.emails.all())


@pytest.fixture
def outbox(database_url: str, engine: Engine, slack: FakeSlack, smtp: SmtpSink) -> Outbox:
    """A follow-up two hours overdue at NOW, scanned: one pending row per channel."""
    settings = build_settings(
        database_url,
        slack_webhook_url=slack.url,
        slack_timeout_seconds=SLACK_TIMEOUT,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_timeout_seconds=2,
        ops_emails=["ops-team@ied.example"],
        notify_max_attempts=MAX_ATTEMPTS,
    )
    workflow = Workflow(engine, settings)
    workflow.upsert_lead("L-1", status="assigned", installer_id="INST-1")
    follow_up = workflow.create("L-1", by=OPS, due_at=NOW - timedelta(hours=2), now=NOW)
    workflow.scan_overdue(NOW)
    return Outbox(workflow, slack, smtp, follow_up)


def note(case: str, **figures: Any) -> None:
    FIGURES[case] = figures
    record_figures("channel_faults", FIGURES)


# Each fault breaks one channel of a fresh outbox; the port is one nobody listens on.
Fault = Callable[[Outbox, int], None]


def slack_429(box: Outbox, port: int) -> None:
    box.slack.reply(429, "rate_limited", {"Retry-After": "120"})


def slack_500(box: Outbox, port: int) -> None:
    box.slack.reply(500, "internal_error")


def slack_refused(box: Outbox, port: int) -> None:
    box.broken["slack"] = SlackChannel(f"http://127.0.0.1:{port}/services/T/B/x", SLACK_TIMEOUT)


def slack_timeout(box: Outbox, port: int) -> None:
    box.slack.reply(200, "ok", delay=SLACK_TIMEOUT * 6)


def smtp_4xx(box: Outbox, port: int) -> None:
    box.smtp.refuse_data = "451 4.3.0 Mailbox busy, try again later"


def smtp_refused(box: Outbox, port: int) -> None:
    box.broken["email"] = EmailChannel(
        host="127.0.0.1", port=port, user=None, password=None, starttls=False,
        sender="ied-workflow@ied.example", recipients=["ops-team@ied.example"], timeout=2,
    )  # fmt: skip


def slack_400(box: Outbox, port: int) -> None:
    box.slack.reply(400, "invalid_payload")


def smtp_5xx(box: Outbox, port: int) -> None:
    box.smtp.refuse_data = "554 5.7.1 Message rejected"


def slack_503(box: Outbox, port: int) -> None:
    box.slack.reply(503, "service_unavailable")


def smtp_421(box: Outbox, port: int) -> None:
    box.smtp.refuse_data = "421 4.7.0 Try again later"


def heal(box: Outbox) -> None:
    """The fault goes away: servers answer normally, broken channels are replaced back."""
    box.broken.clear()
    box.slack.clear_replies()
    box.smtp.refuse_data = None


TRANSIENT = [
    pytest.param("slack", slack_429, "rate-limited the message (429)", 120, id="slack-429"),
    pytest.param("slack", slack_500, "answered 500", None, id="slack-500"),
    pytest.param("slack", slack_refused, "unreachable", None, id="slack-refused"),
    pytest.param("slack", slack_timeout, "unreachable", None, id="slack-timeout"),
    pytest.param("email", smtp_4xx, "answered 451", None, id="smtp-4xx"),
    pytest.param("email", smtp_refused, "unreachable", None, id="smtp-refused"),
]


@pytest.mark.parametrize(("channel", "fault", "error", "retry_after"), TRANSIENT)
def test_transient_fault_waits_its_backoff_then_is_delivered(
    outbox: Outbox,
    closed_port: int,
    channel: str,
    fault: Fault,
    error: str,
    retry_after: int | None,
    request: pytest.FixtureRequest,
) -> None:
    # Given a transient fault on one channel
    fault(outbox, closed_port)

    # When the dispatcher runs
    outbox.dispatch(NOW)

    # Then the row stays pending: attempt counted, error kept, next attempt in the future
    row = outbox.row(channel)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert error in row["last_error"]
    first_error = row["last_error"]
    wait = (row["next_attempt_at"] - NOW).total_seconds()
    assert wait >= (retry_after or 2.5)  # 429: Retry-After; else half the first backoff
    assert wait <= (retry_after or 5)  # the first backoff is at most 5 s
    # ...the other channel is not held back by it
    other = "email" if channel == "slack" else "slack"
    assert outbox.row(other)["status"] == "sent"

    # When the dispatcher runs again before that time, even with the fault gone
    heal(outbox)
    before = outbox.delivered(channel)
    outbox.dispatch(row["next_attempt_at"] - EARLIER)
    # Then it leaves the row alone
    assert outbox.row(channel)["attempts"] == 1
    assert outbox.delivered(channel) == before

    # When it runs at the row's next attempt
    outbox.dispatch(row["next_attempt_at"])
    # Then the alert is delivered, on the second attempt
    row = outbox.row(channel)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert outbox.delivered(channel) == before + 1
    note(request.node.callspec.id, attempts=2, first_wait_seconds=round(wait, 2),
         error=first_error)  # fmt: skip


def failed_listed(cli: Cli, row_id: int) -> dict[str, Any]:
    """The row as `ied-workflow notifications list --status failed --json` shows it."""
    run = cli("notifications", "list", "--status", "failed", "--json")
    assert run.code == 0, run.err
    listed = {item["id"]: item for item in json.loads(run.out)}
    assert row_id in listed, f"notification {row_id} not listed as failed: {run.out}"
    return listed[row_id]


def retried_and_delivered(outbox: Outbox, cli: Cli, channel: str, at: datetime) -> None:
    """`notifications retry ID` at `at`, then a dispatch at `at`: the alert goes out."""
    row_id = outbox.row(channel)["id"]
    before = outbox.delivered(channel)
    run = cli("notifications", "retry", str(row_id), "--now", at.isoformat())
    assert run.code == 0, run.err
    assert (outbox.row(channel)["status"], outbox.row(channel)["attempts"]) == ("pending", 0)
    outbox.dispatch(at)
    assert outbox.row(channel)["status"] == "sent"
    assert outbox.delivered(channel) == before + 1


PERMANENT = [
    pytest.param(
        "slack", slack_400, "slack webhook refused the message (400): invalid_payload",
        id="slack-400",
    ),
    pytest.param(
        "email", smtp_5xx, "smtp server answered 554: 5.7.1 Message rejected", id="smtp-5xx"
    ),
]  # fmt: skip


@pytest.mark.parametrize(("channel", "fault", "error"), PERMANENT)
def test_permanent_fault_fails_at_once_is_listed_and_is_delivered_after_retry(
    outbox: Outbox,
    cli: Cli,
    closed_port: int,
    channel: str,
    fault: Fault,
    error: str,
    request: pytest.FixtureRequest,
) -> None:
    # Given a channel that refuses the message for good
    fault(outbox, closed_port)

    # When the dispatcher runs
    outbox.dispatch(NOW)

    # Then the row fails at once, with the server's answer, and is listed as failed
    row = outbox.row(channel)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert error in row["last_error"]
    assert error in failed_listed(cli, row["id"])["lastError"]

    # When the cause is fixed and an operator retries it, then it is delivered
    heal(outbox)
    retried_and_delivered(outbox, cli, channel, NOW + timedelta(minutes=5))
    note(request.node.callspec.id, attempts_before_failed=1, error=row["last_error"])


KEEPS_FAILING = [
    pytest.param("slack", slack_503, "503", id="slack"),
    pytest.param("email", smtp_421, "421", id="email"),
]


@pytest.mark.parametrize(("channel", "fault", "code"), KEEPS_FAILING)
def test_transient_fault_past_max_attempts_fails_is_listed_and_delivered_after_retry(
    outbox: Outbox,
    cli: Cli,
    closed_port: int,
    channel: str,
    fault: Fault,
    code: str,
    request: pytest.FixtureRequest,
) -> None:
    # Given a channel that keeps failing transiently
    # When the dispatcher tries at each next attempt, IED_NOTIFY_MAX_ATTEMPTS times
    at, waits = NOW, []
    for _ in range(MAX_ATTEMPTS):
        fault(outbox, closed_port)
        outbox.dispatch(at)
        row = outbox.row(channel)
        waits.append(round((row["next_attempt_at"] - at).total_seconds(), 2))
        at = row["next_attempt_at"]

    # Then it has given up: failed after the last attempt, with the last error, listed
    row = outbox.row(channel)
    assert (row["status"], row["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert code in row["last_error"]
    assert failed_listed(cli, row["id"])["attempts"] == MAX_ATTEMPTS
    # ...and the backoff grew between attempts (5 s, 10 s ceilings with jitter)
    assert 2.5 <= waits[0] <= 5 and 5 <= waits[1] <= 10

    # When an operator retries it with the channel healthy, then it is delivered
    heal(outbox)
    retried_and_delivered(outbox, cli, channel, at + timedelta(minutes=5))
    note(request.node.callspec.id, attempts_before_failed=MAX_ATTEMPTS,
         waits_seconds=waits[:-1], error=row["last_error"])  # fmt: skip
