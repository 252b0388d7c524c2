"""Which channels settings turn on, and the console channel's output."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest

from config.settings import Settings
from ied_workflow.alerts.channels import (
    ConsoleChannel,
    EmailChannel,
    SlackChannel,
    channel_by_name,
    channels_from_settings,
)
from ied_workflow.alerts.message import Kind, Message
from ied_workflow.errors import ValidationError

MakeMessage = Callable[..., Message]
WEBHOOK = "https://hooks.slack.com/services/T000/B000/SECRETsecret"


@pytest.fixture(autouse=True)
def no_ied_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test passes counts, not the developer's IED_* variables."""
    for name in [name for name in os.environ if name.upper().startswith("IED_")]:
        monkeypatch.delenv(name)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_console_when_nothing_is_configured() -> None:
    channels = channels_from_settings(settings())
    assert list(channels) == ["console"]
    assert isinstance(channels["console"], ConsoleChannel)


def test_slack_and_email_when_configured_and_no_console() -> None:
    channels = channels_from_settings(
        settings(slack_webhook_url=WEBHOOK, smtp_host="127.0.0.1", ops_emails="ops@ied.example")
    )
    assert sorted(channels) == ["email", "slack"]
    assert isinstance(channels["slack"], SlackChannel)
    assert isinstance(channels["email"], EmailChannel)


def test_email_needs_recipients() -> None:
    assert list(channels_from_settings(settings(smtp_host="127.0.0.1"))) == ["console"]


def test_explicit_channel_must_be_configured() -> None:
    with pytest.raises(ValidationError, match="IED_SLACK_WEBHOOK_URL"):
        channel_by_name(settings(), "slack")
    with pytest.raises(ValidationError, match="IED_SMTP_HOST and IED_OPS_EMAILS"):
        channel_by_name(settings(smtp_host="127.0.0.1"), "email")
    with pytest.raises(ValidationError, match="unknown channel 'pager'"):
        channel_by_name(settings(), "pager")
    assert isinstance(channel_by_name(settings(), "console"), ConsoleChannel)


def test_channels_never_show_their_secrets() -> None:
    configured = settings(
        slack_webhook_url=WEBHOOK,
        smtp_host="127.0.0.1",
        smtp_user="ops",
        smtp_password="hunter2-secret",
        ops_emails="ops@ied.example",
    )
    shown = " ".join(
        f"{channel!r} {channel}" for channel in channels_from_settings(configured).values()
    )
    assert "SECRET" not in shown and "hunter2" not in shown


def test_settings_built_slack_channel_delivers(slack, make_message: MakeMessage) -> None:
    channel = channel_by_name(
        settings(slack_webhook_url=slack.url, ops_timezone="Europe/Berlin"), "slack"
    )
    with channel.open() as sender:
        sender.send(make_message())
    assert "12:40 CET" in str(slack.bodies[0]["blocks"])  # the operations timezone is used


def test_settings_built_email_channel_delivers(smtp, make_message: MakeMessage) -> None:
    configured = settings(
        smtp_host=smtp.host, smtp_port=smtp.port, ops_emails="a@ied.example,b@ied.example"
    )
    with channel_by_name(configured, "email").open() as sender:
        sender.send(make_message())
    [received] = smtp.emails.all()
    assert received.rcpt_tos == ["a@ied.example", "b@ied.example"]


def test_console_prints_the_text_rendering(make_item, make_message: MakeMessage) -> None:
    stream = io.StringIO()
    message = make_message(make_item(issue_summary="\x1b[2Jcleared?"), kind=Kind.CLOSED_WITH_ISSUE)
    with ConsoleChannel(stream).open() as sender:
        sender.send(message)
    output = stream.getvalue()
    assert output.startswith("Follow-up #12 was closed with an issue\n")
    assert "    | [2Jcleared?" in output and "\x1b" not in output


def test_console_defaults_to_stdout(
    capsys: pytest.CaptureFixture[str], make_message: MakeMessage
) -> None:
    with ConsoleChannel().open() as sender:
        sender.send(make_message())
    assert "3 h 20 min overdue" in capsys.readouterr().out


def test_test_message_says_the_channel_works(now) -> None:
    stream = io.StringIO()
    with ConsoleChannel(stream).open() as sender:
        sender.send(Message(Kind.TEST, "test:1", now))
    assert stream.getvalue().startswith(
        "Test notification from ied-workflow\nGenerated 2026-11-25 15:00 UTC\n\n"
        "If you can read this, alerts reach this channel.\n"
    )
