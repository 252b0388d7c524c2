"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records every email, thread-safely.

It can refuse RCPT or DATA with a given reply, and turn AUTH on with `login=(user, password)`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.net import free_port
from tests.support.waiting import Recorder

_ITEM = re.compile(r"^Follow-up #(\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class Email:
    """One email as the server accepted it."""

    at: float  # time.time() on arrival
    peer: Any  # the client's (address, port): one per connection
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool

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
        return [int(found) for found in _ITEM.findall(self.text)]

    def _part(self, subtype: str) -> str:
        """One alternative's content, with the wire's CRLF line ends made plain newlines."""
        part = self.message.get_body(preferencelist=(subtype,))
        assert isinstance(part, EmailMessage)
        return str(part.get_content()).replace("\r\n", "\n")


class SmtpSink:
    """The server and its aiosmtpd handler; a context manager, so a script can use it too."""

    def __init__(self, login: tuple[str, str] | None = None, **smtp_options: Any) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.emails: Recorder[Email] = Recorder()
        self.refuse_rcpt: str | None = None  # e.g. "550 5.1.1 no such mailbox"
        self.refuse_data: str | None = None
        self.quits = 0
        if login:
            smtp_options["authenticator"] = _password_checker(*login)
        self._controller = Controller(self, hostname=self.host, port=self.port, **smtp_options)
        self.running = False

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SmtpSink:
        self._controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        """Shut the server down, dropping open connections."""
        if self.running:
            self._controller.stop()
            self.running = False

    def connections(self) -> int:
        """Distinct client connections that delivered mail (by source address and port)."""
        return len({email.peer for email in self.emails.all()})

    def follow_up_ids(self) -> list[int]:
        """Every follow-up listed, once per email that listed it."""
        return [listed for email in self.emails.all() for listed in email.follow_up_ids]

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
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        sender, tls = str(envelope.mail_from or ""), session.ssl is not None
        email = Email(time.time(), session.peer, sender, list(envelope.rcpt_tos), parsed, tls)
        self.emails.add(email)
        return "250 Message accepted"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"


def _password_checker(user: str, password: str) -> Callable[..., AuthResult]:
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data == (user.encode(), password.encode())
        return AuthResult(success=ok, handled=False)  # False: the server answers 535

    return check


SmtpFactory = Callable[..., SmtpSink]  # the `smtp_factory` fixture: (login=None, **options)
