"""Slack incoming webhook channel: 200 "ok" is success, the rest says retry or give up.

slack_sdk's retry handlers sleep inside the worker, so none are installed: the outbox
records `retry_after` and tries again later. The webhook URL is a secret; it is kept out
of every error, log line and repr.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from ied_workflow.alerts.message import Message
from ied_workflow.alerts.redact import Redactor
from ied_workflow.alerts.render import slack_payload
from ied_workflow.errors import PermanentDeliveryError, TransientDeliveryError

# slack_sdk logs the webhook URL at debug level and errors at error level; a logger
# outside the logging tree, disabled, keeps the URL away from every handler.
_SILENT = logging.Logger("ied_workflow.alerts.slack_sdk", logging.CRITICAL + 1)
_SILENT.disabled = True


class SlackChannel:
    """Slack incoming webhook, sent without slack_sdk's sleeping retry handlers."""

    name = "slack"

    def __init__(
        self, webhook_url: str, timeout: float, zone: tzinfo = UTC, base_url: str | None = None
    ) -> None:
        self._url = webhook_url
        self._timeout = timeout
        self._zone = zone
        self._base_url = base_url  # links to the console; None: no buttons

    def __repr__(self) -> str:
        return f"SlackChannel(webhook_url='<redacted>', timeout={self._timeout})"

    @contextmanager
    def open(self) -> Iterator[_SlackSender]:
        """A sender posting to the webhook; there is no connection to hold."""
        client = WebhookClient(
            self._url,
            timeout=self._timeout,  # type: ignore[arg-type]  # urllib takes floats
            logger=_SILENT,
            retry_handlers=[],  # the outbox retries later; a worker must not sleep
        )
        yield _SlackSender(client, self._zone, Redactor.for_url(self._url), self._base_url)


class _SlackSender:
    def __init__(
        self, client: WebhookClient, zone: tzinfo, redact: Redactor, base_url: str | None
    ) -> None:
        self._client = client
        self._zone = zone
        self._redact = redact
        self._base_url = base_url

    def send(self, message: Message) -> None:
        """Post one message; the answer decides success, retry or give up."""
        payload = slack_payload(message, self._zone, base_url=self._base_url)
        try:
            response = self._client.send_dict(payload)
        # `from None` everywhere: the original exceptions may quote the URL.
        except SlackRequestError:
            raise PermanentDeliveryError("slack webhook url is not an http(s) url") from None
        except ValueError:
            raise PermanentDeliveryError("slack webhook url is malformed") from None
        except (OSError, HTTPException) as exc:
            raise TransientDeliveryError(f"slack webhook unreachable: {_cause(exc)}") from None
        self._check(response.status_code, response.body, response.headers)

    def _check(self, status: int, body: str, headers: Mapping[str, Any]) -> None:
        if status == 200 and body.strip() == "ok":
            return
        detail = self._redact(body)
        if status == 429:
            retry_after = _retry_after(headers)
            raise TransientDeliveryError(
                f"slack webhook rate-limited the message (429): {detail}", retry_after
            )
        if status >= 500 or status == 408:
            raise TransientDeliveryError(f"slack webhook answered {status}: {detail}")
        if 400 <= status < 500:
            raise PermanentDeliveryError(f"slack webhook refused the message ({status}): {detail}")
        raise PermanentDeliveryError(f"slack webhook answered {status}, not ok: {detail}")


def _cause(exc: BaseException) -> str:
    """The class name of what went wrong, looking inside URLError; never its text."""
    if isinstance(exc, URLError) and isinstance(exc.reason, BaseException):
        return type(exc.reason).__name__
    return type(exc).__name__


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), if usable."""
    raw = next((value for key, value in headers.items() if key.lower() == "retry-after"), None)
    value = str(raw[0] if isinstance(raw, list) and raw else raw or "").strip()
    try:
        seconds: float | None = float(value)
    except ValueError:
        seconds = _seconds_until(value)
    return max(0.0, seconds) if seconds is not None and math.isfinite(seconds) else None


def _seconds_until(http_date: str) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()
