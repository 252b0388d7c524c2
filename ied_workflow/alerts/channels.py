"""Where alerts go: a Slack webhook, SMTP email, or the console; chosen from settings.

Each Sender raises TransientDeliveryError (try again later, maybe after `retry_after`
seconds) or PermanentDeliveryError (this message will never go through as is), so the
dispatcher's retry policy is a list of classes. Secrets (the webhook URL, the SMTP
password) never appear in an error, a log line or a repr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, tzinfo
from typing import Protocol, TextIO

from config.settings import Settings
from ied_workflow.alerts.message import Message
from ied_workflow.alerts.render import plain_text
from ied_workflow.alerts.slack import SlackChannel
from ied_workflow.alerts.smtp import EmailChannel
from ied_workflow.errors import TransientDeliveryError, ValidationError

__all__ = [
    "Channel",
    "ConsoleChannel",
    "EmailChannel",
    "Sender",
    "SlackChannel",
    "channel_by_name",
    "channels_from_settings",
]


class Sender(Protocol):
    """Delivers messages over one open connection of a channel."""

    def send(self, message: Message) -> None:
        """Deliver one message or raise a DeliveryError saying whether to retry."""


class Channel(Protocol):
    """A configured destination; `open()` may itself raise a DeliveryError."""

    name: str

    def open(self) -> AbstractContextManager[Sender]:
        """A sender usable for a whole batch, closed when the block ends."""


class ConsoleChannel:
    """Prints alerts as text; the default when neither Slack nor SMTP is configured."""

    name = "console"

    def __init__(
        self, stream: TextIO | None = None, zone: tzinfo = UTC, base_url: str | None = None
    ) -> None:
        self._stream = stream
        self._zone = zone
        self._base_url = base_url

    @contextmanager
    def open(self) -> Iterator[_ConsoleSender]:
        """A sender writing to the stream (stdout, looked up late so capture works)."""
        yield _ConsoleSender(self._stream or sys.stdout, self._zone, self._base_url)


class _ConsoleSender:
    def __init__(self, stream: TextIO, zone: tzinfo, base_url: str | None) -> None:
        self._stream = stream
        self._zone = zone
        self._base_url = base_url

    def send(self, message: Message) -> None:
        """Write the plain-text rendering and a rule under it."""
        try:
            self._stream.write(
                plain_text(message, self._zone, base_url=self._base_url) + "-" * 60 + "\n"
            )
            self._stream.flush()
        except OSError as exc:
            raise TransientDeliveryError(f"console write failed: {type(exc).__name__}") from None


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The channels alerts go to: Slack and/or email when configured, else the console."""
    found = {name: _BUILDERS[name](settings) for name in _NEEDS if _configured(settings, name)}
    return found or {"console": _console(settings)}


def channel_by_name(settings: Settings, name: str) -> Channel:
    """One channel chosen by name (for `notify test --channel`), if it is configured."""
    if name not in _BUILDERS:
        raise ValidationError(f"unknown channel {name!r}: choose slack, email or console")
    if not _configured(settings, name):
        raise ValidationError(f"channel {name} is not configured: {_NEEDS[name]}")
    return _BUILDERS[name](settings)


def _slack(settings: Settings) -> Channel:
    url = settings.slack_webhook_url.get_secret_value() if settings.slack_webhook_url else ""
    return SlackChannel(url, settings.slack_timeout_seconds, settings.zone, settings.base_url)


def _email(settings: Settings) -> Channel:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return EmailChannel(
        host=settings.smtp_host or "",
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=password,
        starttls=settings.smtp_starttls,
        sender=settings.email_from,
        recipients=settings.ops_emails,
        timeout=settings.smtp_timeout_seconds,
        zone=settings.zone,
        base_url=settings.base_url,
    )


def _console(settings: Settings) -> Channel:
    return ConsoleChannel(zone=settings.zone, base_url=settings.base_url)


_BUILDERS = {"slack": _slack, "email": _email, "console": _console}
_NEEDS = {
    "slack": "set IED_SLACK_WEBHOOK_URL",
    "email": "set IED_SMTP_HOST and IED_OPS_EMAILS",
}


def _configured(settings: Settings, name: str) -> bool:
    if name == "slack":
        return bool(settings.slack_webhook_url and settings.slack_webhook_url.get_secret_value())
    if name == "email":
        return bool(settings.smtp_host and settings.ops_emails)
    return True
