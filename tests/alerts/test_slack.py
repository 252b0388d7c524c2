"""The Slack channel against a real HTTP server playing the webhook."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ied_workflow.alerts.channels import SlackChannel
from ied_workflow.alerts.message import Message
from ied_workflow.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError

MakeMessage = Callable[..., Message]


def failure(channel: SlackChannel, message: Message) -> DeliveryError:
    """The error one send raises (the test fails if it succeeds)."""
    with channel.open() as sender, pytest.raises(DeliveryError) as caught:
        sender.send(message)
    return caught.value


def assert_no_secret(error: BaseException, secret: str) -> None:
    shown = [str(error), repr(error), "".join(traceback.format_exception(error))]
    assert not [text for text in shown if secret in text or "SECRET" in text]


def test_delivered_message_reaches_the_webhook(slack, make_message: MakeMessage) -> None:
    channel = SlackChannel(slack.url, timeout=2)
    with channel.open() as sender:
        sender.send(make_message())
    assert slack.paths == [slack.secret]
    [body] = slack.bodies
    assert body["text"] == "Follow-up #12 is overdue"
    assert body["blocks"][0]["type"] == "header"


def test_rate_limit_is_transient_with_retry_after(slack, make_message: MakeMessage) -> None:
    # Given Slack answers 429 with Retry-After: 7, then accepts
    slack.reply(429, "rate_limited", {"Retry-After": "7"})
    channel = SlackChannel(slack.url, timeout=2)
    with channel.open() as sender:
        # When the first send is rate-limited, Then it says when to come back
        with pytest.raises(TransientDeliveryError) as caught:
            sender.send(make_message())
        assert caught.value.retry_after == 7
        # And the retry goes through
        sender.send(make_message())
    assert len(slack.bodies) == 2


def test_retry_after_as_an_http_date(slack, make_message: MakeMessage) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    slack.reply(429, "rate_limited", {"Retry-After": later})
    error = failure(SlackChannel(slack.url, timeout=2), make_message())
    assert isinstance(error, TransientDeliveryError)
    assert error.retry_after is not None and 100 < error.retry_after <= 120


def test_server_error_is_transient_then_recovers(slack, make_message: MakeMessage) -> None:
    slack.reply(500, "internal_error")
    channel = SlackChannel(slack.url, timeout=2)
    error = failure(channel, make_message())
    assert isinstance(error, TransientDeliveryError)
    assert error.retry_after is None
    assert str(error) == "slack webhook answered 500: internal_error"
    with channel.open() as sender:
        sender.send(make_message())
    assert len(slack.bodies) == 2


@pytest.mark.parametrize(("status", "body"), [(400, "invalid_payload"), (404, "channel_not_found")])
def test_client_errors_are_permanent(
    slack, make_message: MakeMessage, status: int, body: str
) -> None:
    slack.reply(status, body)
    error = failure(SlackChannel(slack.url, timeout=2), make_message())
    assert isinstance(error, PermanentDeliveryError)
    assert body in str(error) and str(status) in str(error)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/hook", "http//127.0.0.1/hook"])
def test_malformed_url_is_permanent(make_message: MakeMessage, url: str) -> None:
    error = failure(SlackChannel(url, timeout=2), make_message())
    assert isinstance(error, PermanentDeliveryError)


def test_unexpected_200_body_is_permanent(slack, make_message: MakeMessage) -> None:
    slack.reply(200, "<html>captive portal</html>")
    assert isinstance(
        failure(SlackChannel(slack.url, timeout=2), make_message()), PermanentDeliveryError
    )


def test_connection_refused_is_transient(closed_port: int, make_message: MakeMessage) -> None:
    channel = SlackChannel(f"http://127.0.0.1:{closed_port}/services/T000/B000/SECRETsecret", 2)
    error = failure(channel, make_message())
    assert isinstance(error, TransientDeliveryError)
    assert str(error) == "slack webhook unreachable: ConnectionRefusedError"


def test_slow_webhook_times_out_as_transient(slack, make_message: MakeMessage) -> None:
    slack.reply(200, "ok", delay=5)
    started = time.monotonic()
    error = failure(SlackChannel(slack.url, timeout=0.3), make_message())
    assert isinstance(error, TransientDeliveryError)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "scenario",
    ["429", "500", "400", "404 echoing the path", "refused", "timeout", "not http", "no scheme"],
)
def test_webhook_url_never_shows(
    slack,
    closed_port: int,
    make_message: MakeMessage,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
) -> None:
    # Given every way a send can fail, with all logging captured at DEBUG
    caplog.set_level(logging.DEBUG)
    url, timeout = slack.url, 2.0
    if scenario == "refused":
        url = f"http://127.0.0.1:{closed_port}{slack.secret}"
    elif scenario == "timeout":
        slack.reply(200, "ok", delay=5)
        timeout = 0.3
    elif scenario == "not http":
        url = f"ftp://127.0.0.1{slack.secret}"
    elif scenario == "no scheme":
        url = f"http//127.0.0.1{slack.secret}"
    elif scenario == "404 echoing the path":
        slack.reply(404, f"no hook at {slack.url} ({slack.secret})")
    else:
        slack.reply(int(scenario), "err", {"Retry-After": "1"})
    channel = SlackChannel(url, timeout)
    # When the send fails
    error = failure(channel, make_message())
    # Then neither the error, its traceback, the logs nor the channel's repr show the URL
    assert_no_secret(error, slack.secret)
    assert "SECRET" not in caplog.text
    assert "SECRET" not in repr(channel) and "SECRET" not in str(channel)
