"""Real local servers standing in for Slack and SMTP: an HTTP server and aiosmtpd.

They record what arrives, thread-safely (a worker thread or subprocess delivers while
the test reads), and run as context managers so that a script can use them too.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

T = TypeVar("T")
WEBHOOK_PATH = "/services/T000/B000/worker-test-secret"
_SLACK_ITEM = re.compile(r"^\*Follow-up #(\d+)\*", re.MULTILINE)
_EMAIL_ITEM = re.compile(r"^Follow-up #(\d+)$", re.MULTILINE)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Recorder(Generic[T]):
    """A list filled by server threads that a test can wait on."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def all(self) -> list[T]:
        with self._changed:
            return list(self._items)

    def wait_for(self, count: int, timeout: float) -> list[T]:
        """At least `count` items, waiting up to `timeout` seconds, else AssertionError."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self._items) >= count, timeout)
            items = list(self._items)
        assert arrived, f"expected {count} deliveries within {timeout} s, got {len(items)}"
        return items


@dataclass(frozen=True)
class SlackPost:
    """One webhook post as the server received it."""

    at: float  # time.time() on arrival, before the (possibly slow) answer
    body: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.body["blocks"][0]["text"]["text"])

    @property
    def text(self) -> str:
        """Every section's mrkdwn text: what a reader sees in Slack."""
        sections = (b for b in self.body["blocks"] if b["type"] == "section")
        return "\n".join(b["text"]["text"] for b in sections)

    @property
    def follow_up_ids(self) -> list[int]:
        return [int(found) for found in _SLACK_ITEM.findall(self.text)]


class SlackWebhook:
    """A real HTTP server on 127.0.0.1 answering 200 "ok" like a Slack incoming webhook.

    `delay` holds every answer that long, so a test can kill a sender mid-request.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.posts: Recorder[SlackPost] = Recorder()
        self._closing = threading.Event()
        self._server = _SlackServer(("127.0.0.1", 0), _SlackHandler)
        self._server.webhook = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{WEBHOOK_PATH}"

    def __enter__(self) -> SlackWebhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()  # ends slow answers at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def follow_up_ids(self) -> list[int]:
        """Every follow-up listed, once per message that listed it."""
        return [listed for post in self.posts.all() for listed in post.follow_up_ids]

    def received(self, body: dict[str, Any]) -> None:
        self.posts.add(SlackPost(time.time(), body))
        if self.delay:
            self._closing.wait(self.delay)


class _SlackServer(ThreadingHTTPServer):
    webhook: SlackWebhook


class _SlackHandler(BaseHTTPRequestHandler):
    server: _SlackServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.webhook.received(json.loads(self.rfile.read(length)))
        with contextlib.suppress(OSError):  # the sender may have died meanwhile
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is for the tests."""


@dataclass(frozen=True)
class Email:
    """One email as the SMTP server accepted it."""

    at: float
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self._part("plain")

    @property
    def html(self) -> str:
        return self._part("html")

    @property
    def follow_up_ids(self) -> list[int]:
        return [int(found) for found in _EMAIL_ITEM.findall(self.text)]

    def _part(self, subtype: str) -> str:
        """One alternative's content, with the wire's CRLF line ends made plain newlines."""
        part = self.message.get_body(preferencelist=(subtype,))
        assert isinstance(part, EmailMessage)
        return str(part.get_content()).replace("\r\n", "\n")


class SmtpServer:
    """A real aiosmtpd server on 127.0.0.1 that accepts and records every email."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.emails: Recorder[Email] = Recorder()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def follow_up_ids(self) -> list[int]:
        """Every follow-up listed, once per email that listed it."""
        return [listed for email in self.emails.all() for listed in email.follow_up_ids]

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        sender = str(envelope.mail_from or "")
        self.emails.add(Email(time.time(), sender, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"
