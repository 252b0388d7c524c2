"""Real servers for the notify tests: an HTTP server playing the Slack webhook, and aiosmtpd."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from ied_workflow.alerts.message import AlertItem, Kind, Message

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
SECRET_PATH = "/services/T000/B000/SECRETsecret"


def _item(follow_up_id: int = 12, **overrides: Any) -> AlertItem:
    values: dict[str, Any] = {
        "follow_up_id": follow_up_id,
        "lead_id": "L-100",
        "installer_id": "INST-7",
        "status": "in_progress",
        "due_at": NOW - timedelta(hours=3, minutes=20),
        "contact_attempt_count": 2,
        "last_contact_outcome": "no_answer",
    }
    return AlertItem(**(values | overrides))


def _message(*items: AlertItem, kind: Kind = Kind.OVERDUE, **overrides: Any) -> Message:
    values: dict[str, Any] = {"kind": kind, "key": "overdue:12:0", "now": NOW}
    return Message(items=items or (_item(),), **(values | overrides))


@pytest.fixture
def now() -> datetime:
    """The clock every test message is rendered at."""
    return NOW


@pytest.fixture
def make_item() -> Callable[..., AlertItem]:
    """Builds a follow-up 3 h 20 min overdue, with two attempts, overridable by keyword."""
    return _item


@pytest.fixture
def make_message() -> Callable[..., Message]:
    """Builds a message about the given items (one overdue follow-up when none given)."""
    return _message


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on."""
    return _free_port()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Reply:
    """One scripted answer of the fake Slack webhook."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeSlack:
    """Records posted JSON bodies; answers from a script, then 200 ok."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}{SECRET_PATH}"
        self.replies: deque[Reply] = deque()
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.release = threading.Event()  # ends a slow reply early at teardown

    @property
    def secret(self) -> str:
        return SECRET_PATH

    def reply(
        self, status: int, body: str, headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        """Queue the answer to the next request not yet scripted."""
        self.replies.append(Reply(status, body, headers or {}, delay))

    def next_reply(self) -> Reply:
        return self.replies.popleft() if self.replies else Reply()


class _SlackHandler(BaseHTTPRequestHandler):
    server: _SlackServer

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length", "0"))
        fake.bodies.append(json.loads(self.rfile.read(length)))
        fake.paths.append(self.path)
        reply = fake.next_reply()
        if reply.delay:
            fake.release.wait(reply.delay)
        with contextlib.suppress(OSError):  # the client may have given up (timeout test)
            self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        data = reply.body.encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is for the tests."""


class _SlackServer(ThreadingHTTPServer):
    fake: FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A real HTTP server on 127.0.0.1 acting as the Slack incoming webhook."""
    server = _SlackServer(("127.0.0.1", 0), _SlackHandler)
    server.fake = FakeSlack(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.fake
    server.fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass
class Received:
    """One accepted email as the SMTP server saw it."""

    peer: Any
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool

    @property
    def email(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    """aiosmtpd handler: keeps what arrives; can refuse RCPT or DATA with a given reply."""

    received: list[Received] = field(default_factory=list)
    quits: int = 0
    refuse_rcpt: str | None = None
    refuse_data: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            return self.refuse_data
        content = envelope.original_content or b""
        tls = session.ssl is not None
        record = Received(session.peer, envelope.mail_from or "", envelope.rcpt_tos, content, tls)
        self.received.append(record)
        return "250 Message accepted"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"

    def connections(self) -> int:
        """Distinct client connections that delivered mail (by source address and port)."""
        return len({record.peer for record in self.received})


@dataclass
class SmtpServer:
    """A running aiosmtpd server and what it recorded."""

    host: str
    port: int
    handler: RecordingHandler
    controller: Controller
    running: bool = True

    def stop(self) -> None:
        """Shut the server down, dropping open connections."""
        if self.running:
            self.controller.stop()
            self.running = False


SmtpFactory = Callable[..., SmtpServer]


@pytest.fixture
def smtp_factory() -> Iterator[SmtpFactory]:
    """Starts real aiosmtpd servers on 127.0.0.1; `login=(user, password)` turns AUTH on."""
    servers: list[SmtpServer] = []

    def start(login: tuple[str, str] | None = None, **smtp_options: Any) -> SmtpServer:
        handler = RecordingHandler()
        if login:
            smtp_options["authenticator"] = _password_checker(*login)
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **smtp_options)
        controller.start()
        servers.append(SmtpServer("127.0.0.1", controller.port, handler, controller))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp(smtp_factory: SmtpFactory) -> SmtpServer:
    """A plain SMTP server that accepts everything."""
    return smtp_factory()


def _password_checker(user: str, password: str) -> Callable[..., AuthResult]:

    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data == (user.encode(), password.encode())
        return AuthResult(success=ok, handled=False)  # False: the server answers 535

    return check


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """Made with the openssl command line (no cryptography package is installed)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)
