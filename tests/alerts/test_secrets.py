"""Secrets: the Slack webhook URL and the SMTP password never show anywhere.

The webhook URL carries a unique token and the SMTP password is a unique token. Everything
that can log or print is driven with them while every logger is captured at DEBUG and
stdout/stderr are captured: settings' repr and str, channel reprs, `notify test` against
erroring and unreachable endpoints (including servers that echo the secret back), the
dispatcher with failures (through the CLI, the Python API and the Celery task), the
`notifications list` views, delivery exceptions and their tracebacks, and every row of
every table (the outbox's stored `last_error` included). Neither token may appear in any.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, Session
from sqlalchemy import Engine

from config.settings import Settings, get_settings
from ied_workflow.alerts.channels import channel_by_name, channels_from_settings
from ied_workflow.alerts.message import Kind, Message
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.errors import DeliveryError
from ied_workflow.workflow import Workflow
from tests.support.cli import Cli, Run
from tests.support.contract_invariants import read_all
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpFactory
from workers import runtime, tasks

SLACK_TOKEN = "SlackHookToken6d1f0c9a"
SMTP_PASSWORD = "SmtpPassword93be27d4"
SMTP_USER = "alerts-bot"
HOOK_PATH = f"/services/T0IED/B0IED/{SLACK_TOKEN}"
OPS = "ops@ied.example"
# Loggers of the test's own fake servers: they are the other side of the wire, not us.
SERVER_LOGGERS = ("mail.log", "aiosmtpd")


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """One SQLite database: secrets do not depend on the database kind."""
    path = tmp_path / "ied.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger, at DEBUG (SQLAlchemy then logs each statement and its parameters)."""
    caplog.set_level(logging.DEBUG)
    yield caplog


class Seen:
    """Everything shown: printed output, exceptions, reprs, rows and log records."""

    def __init__(self, logs: pytest.LogCaptureFixture) -> None:
        self.logs = logs
        self.texts: list[tuple[str, str]] = []

    def add(self, label: str, *texts: object) -> None:
        self.texts += [(label, text if isinstance(text, str) else repr(text)) for text in texts]

    def run(self, cli: Cli, *args: str) -> Run:
        try:
            result = cli(*args)
        except Exception as error:  # a traceback in a real shell: it is shown too
            self.error(" ".join(args), error)
            pytest.fail(f"`{' '.join(args)}` raised {type(error).__name__} (a traceback)")
        self.add(" ".join(args), result.out, result.err)
        return result

    def error(self, label: str, error: BaseException) -> None:
        chain, cause = [], error.__cause__
        while cause is not None:  # explicit causes are printed with the error
            chain.append(cause)
            cause = cause.__cause__
        self.add(label, str(error), repr(error), *map(repr, chain))
        self.add(label, "".join(traceback.format_exception(error)))

    def leaks(self) -> list[str]:
        shown = list(self.texts)
        formatter = logging.Formatter()
        for record in self.logs.records:
            if not record.name.startswith(SERVER_LOGGERS):
                line = f"{formatter.format(record)} {vars(record)!r}"  # message, args, traceback
                shown.append((f"log {record.name}", line))
        return [
            f"{label}: {secret} in {text[:300]!r}"
            for label, text in shown
            for secret in (SLACK_TOKEN, SMTP_PASSWORD)
            if secret in text
        ]


@pytest.fixture
def seen(logs: pytest.LogCaptureFixture) -> Seen:
    return Seen(logs)


def configure(
    monkeypatch: pytest.MonkeyPatch,
    slack_url: str | None = None,
    smtp: Any = None,
    database_url: str | None = None,
) -> Settings:
    """Point the process's settings at the given Slack webhook and SMTP server (only)."""
    for name in ("IED_SLACK_WEBHOOK_URL", "IED_SMTP_HOST", "IED_OPS_EMAILS", "IED_SMTP_USER"):
        monkeypatch.delenv(name, raising=False)
    if database_url:
        monkeypatch.setenv("IED_DATABASE_URL", database_url)
    monkeypatch.setenv("IED_SLACK_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("IED_SMTP_TIMEOUT_SECONDS", "2")
    if slack_url:
        monkeypatch.setenv("IED_SLACK_WEBHOOK_URL", slack_url)
    if smtp is not None:
        host, port = (smtp.host, smtp.port) if hasattr(smtp, "host") else ("127.0.0.1", smtp)
        monkeypatch.setenv("IED_SMTP_HOST", host)
        monkeypatch.setenv("IED_SMTP_PORT", str(port))
        monkeypatch.setenv("IED_SMTP_USER", SMTP_USER)
        monkeypatch.setenv("IED_SMTP_PASSWORD", SMTP_PASSWORD)
        monkeypatch.setenv("IED_OPS_EMAILS", OPS)
        monkeypatch.setenv("IED_EMAIL_FROM", "ied-workflow@ied.example")
    get_settings.cache_clear()
    return get_settings()


def hook(slack: FakeSlack, port: int | None = None) -> str:
    """The webhook URL (with the secret token) on the fake Slack server or another port."""
    host = slack.url.split("/services/")[0]
    if port is not None:
        host = f"http://127.0.0.1:{port}"
    return host + HOOK_PATH


def echoing_authenticator(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    """A hostile server: refuses the login and quotes the credentials back."""
    return AuthResult(
        success=False, handled=False, message=f"535 5.7.8 bad login {data!r} {SMTP_PASSWORD}"
    )


SLACK_FAULTS = {
    "ok": (200, "ok"),
    "500 echoing the url": (500, "server error at {url}"),
    "404 echoing the path": (404, "no_service: no hook at {path}"),
    "429": (429, "rate_limited"),
    "400 invalid_payload echoing the token": (400, "invalid_payload for {token}"),
}


@pytest.mark.parametrize("fault", list(SLACK_FAULTS))
def test_notify_test_on_slack_never_prints_the_webhook(
    cli: Cli, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, seen: Seen, fault: str
) -> None:
    # Given a webhook that answers with a fault, quoting the secret back where it can
    status, body = SLACK_FAULTS[fault]
    url = hook(slack)
    slack.reply(
        status, body.format(url=url, path=HOOK_PATH, token=SLACK_TOKEN), {"Retry-After": "1"}
    )
    configure(monkeypatch, slack_url=url)
    # When operations check the channel
    result = seen.run(cli, "notify", "test", "--channel", "slack")
    # Then the answer is ok, or one error line, and the token shows nowhere
    assert result.code == (0 if fault == "ok" else 1), result.err
    assert slack.paths == [HOOK_PATH]  # the secret did reach the server it is for
    if result.code:
        assert len(result.err.splitlines()) == 1 and "Traceback" not in result.err
    assert seen.leaks() == []


@pytest.mark.parametrize("fault", ["connection refused", "timeout", "no scheme", "not http"])
def test_unreachable_or_malformed_webhook_never_prints_it(
    cli: Cli,
    slack: FakeSlack,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    seen: Seen,
    fault: str,
) -> None:
    url = {
        "connection refused": hook(slack, closed_port),
        "timeout": hook(slack),
        "no scheme": "http//127.0.0.1" + HOOK_PATH,
        "not http": "ftp://127.0.0.1" + HOOK_PATH,
    }[fault]
    if fault == "timeout":
        slack.reply(200, "ok", delay=3)
    configure(monkeypatch, slack_url=url)
    result = seen.run(cli, "notify", "test", "--channel", "slack")
    assert result.code == 1 and len(result.err.splitlines()) == 1, result.err
    assert seen.leaks() == []


def test_malformed_webhook_url_is_one_error_line_not_a_traceback(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, seen: Seen
) -> None:
    # Given a webhook URL that urllib cannot even split (an unclosed IPv6 bracket)
    configure(monkeypatch, slack_url="https://[hooks.slack.com" + HOOK_PATH)
    # When operations check the channel, Then it is one error line (exit 1), secret-free
    result = seen.run(cli, "notify", "test", "--channel", "slack")
    assert result.code == 1 and len(result.err.splitlines()) == 1, result.err
    assert seen.leaks() == []


def test_malformed_webhook_url_fails_the_alerts_instead_of_crashing_dispatch(
    database_url: str, monkeypatch: pytest.MonkeyPatch, seen: Seen
) -> None:
    # Given a closed-with-issue alert queued for a Slack webhook URL that cannot be split
    url = "https://[hooks.slack.com" + HOOK_PATH
    settings = configure(monkeypatch, slack_url=url, database_url=database_url)
    wf = Workflow.from_settings(settings)
    closed_with_issue(wf, "L-1")
    # When the dispatcher runs, Then the row ends failed with a secret-free error
    try:
        result = wf.dispatch()
    except Exception as error:
        seen.error("dispatch", error)
        pytest.fail(f"dispatch raised {type(error).__name__}: {error}")
    finally:
        wf.engine.dispose()
    assert result.failed == {"slack": 1}
    assert seen.leaks() == []


SMTP_FAULTS = ["ok", "login refused, password echoed", "data refused, password echoed", "refused"]


@pytest.mark.parametrize("fault", SMTP_FAULTS)
def test_notify_test_on_email_never_prints_the_password(
    cli: Cli,
    smtp_factory: SmtpFactory,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    seen: Seen,
    fault: str,
) -> None:
    # Given an SMTP server that accepts, refuses (quoting the password), or is not there
    server: Any = closed_port
    if fault == "ok":
        server = smtp_factory(login=(SMTP_USER, SMTP_PASSWORD), auth_require_tls=False)
    elif fault == "login refused, password echoed":
        server = smtp_factory(authenticator=echoing_authenticator, auth_require_tls=False)
    elif fault == "data refused, password echoed":
        server = smtp_factory(login=(SMTP_USER, SMTP_PASSWORD), auth_require_tls=False)
        server.refuse_data = f"554 5.7.1 refused, your password is {SMTP_PASSWORD}"
    configure(monkeypatch, smtp=server)
    # When operations check the channel
    result = seen.run(cli, "notify", "test", "--channel", "email")
    # Then it is ok or one error line, and the password shows nowhere
    assert result.code == (0 if fault == "ok" else 1), result.err
    if fault == "ok":
        assert len(server.emails.all()) == 1
    assert seen.leaks() == []


def test_settings_and_channels_never_show_their_secrets(
    slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, seen: Seen
) -> None:
    settings = configure(monkeypatch, slack_url=hook(slack), smtp=25)
    channels = channels_from_settings(settings)
    seen.add("settings", repr(settings), str(settings), f"{settings}", settings.model_dump_json())
    seen.add(
        "settings dump", repr(settings.model_dump()), json.dumps(settings.model_dump(mode="json"))
    )
    seen.add("channels", repr(channels), *(f"{c} {c!r}" for c in channels.values()))
    assert seen.leaks() == []


@pytest.mark.parametrize(
    ("channel", "fault"),
    [
        ("slack", "500 echoing the url"),
        ("slack", "404 echoing the path"),
        ("slack", "connection refused"),
        ("slack", "not http"),
        ("email", "login refused, password echoed"),
        ("email", "refused"),
    ],
)
def test_delivery_errors_and_their_tracebacks_never_carry_a_secret(
    slack: FakeSlack,
    smtp_factory: SmtpFactory,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    seen: Seen,
    channel: str,
    fault: str,
) -> None:
    if channel == "slack":
        url = {"connection refused": hook(slack, closed_port), "not http": "ftp://x" + HOOK_PATH}
        slack.reply(500 if "500" in fault else 404, f"echo {hook(slack)} {HOOK_PATH}")
        settings = configure(monkeypatch, slack_url=url.get(fault, hook(slack)))
    else:
        server: Any = closed_port
        if fault != "refused":
            server = smtp_factory(authenticator=echoing_authenticator, auth_require_tls=False)
        settings = configure(monkeypatch, smtp=server)
    message = Message(kind=Kind.TEST, key="secret-check", now=datetime.now(UTC))
    with (
        pytest.raises(DeliveryError) as raised,
        channel_by_name(settings, channel).open() as sender,
    ):
        sender.send(message)  # opening may raise too
    seen.error(f"{channel} {fault}", raised.value)
    logging.getLogger("ied_workflow.test").exception("delivery failed", exc_info=raised.value)
    assert seen.leaks() == []


def closed_with_issue(wf: Workflow, lead: str, due: datetime | None = None) -> int:
    """A follow-up closed with an open issue: its alerts are queued in the outbox."""
    wf.upsert_lead(lead, status="assigned", installer_id="I-1")
    follow_up = wf.create(lead, by=OPS, due_at=due)
    wf.log_contact(follow_up.id, by=OPS, outcome="reached_customer")
    outcome = Outcome(
        has_issue=True, issue_summary="panel cracked", satisfaction=Satisfaction.UNSATISFIED
    )
    return wf.record_outcome(follow_up.id, by=OPS, outcome=outcome).id


def test_dispatch_failures_delivery_rows_and_listings_never_hold_a_secret(
    cli: Cli,
    engine: Engine,
    slack: FakeSlack,
    smtp_factory: SmtpFactory,
    monkeypatch: pytest.MonkeyPatch,
    seen: Seen,
) -> None:
    # Given Slack answering 404 (permanent) and an SMTP server refusing the login, both
    # quoting the secret back, and alerts queued for both channels
    for _ in range(3):
        slack.reply(404, f"no_service at {hook(slack)}")
    server = smtp_factory(authenticator=echoing_authenticator, auth_require_tls=False)
    settings = configure(monkeypatch, slack_url=hook(slack), smtp=server)
    wf = Workflow.from_settings(settings)
    closed_with_issue(wf, "L-1")
    wf.upsert_lead("L-2", status="assigned", installer_id="I-2")
    wf.create("L-2", by=OPS, due_at=datetime.now(UTC) - timedelta(days=2))
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()

    # When the scan, the dispatcher and the listings run through the CLI
    assert seen.run(cli, "scan", "overdue", "--now", later).code == 0
    assert seen.run(cli, "notifications", "dispatch", "--now", later, "--json").code == 0
    for args in ([], ["--json"], ["--status", "failed"], ["--status", "failed", "--json"]):
        assert seen.run(cli, "notifications", "list", *args).code == 0
    failed = json.loads(seen.run(cli, "notifications", "list", "--status", "failed", "--json").out)
    # and again after a retry, through the Python API (Slack now 500, SMTP still refusing)
    for row in failed:
        assert seen.run(cli, "notifications", "retry", str(row["id"])).code == 0
    slack.reply(500, f"oops {hook(slack)}")
    result = wf.dispatch()
    seen.add("dispatch result", result)
    # and through the Celery task (called in-process, as a worker would run it)
    runtime.workflow.cache_clear()
    seen.add("task result", json.dumps(tasks.dispatch_notifications(later)))
    runtime.workflow.cache_clear()
    wf.engine.dispose()

    # Then the failures were recorded, redacted (the servers did quote the secrets back) ...
    with engine.connect() as conn:
        rows = read_all(conn)
    outbox = rows["deliveries"]
    assert len(failed) == len(outbox) == 4
    redacted = {row["channel"] for row in outbox if "<redacted>" in (row["last_error"] or "")}
    assert redacted == {"slack", "email"}, outbox
    # ... and no row, output, result or log line holds either secret
    seen.add("every row", repr(rows))
    assert seen.leaks() == []
