"""SMTP email channel: one connection per batch; 4xx and network trouble are transient.

The password never appears in an error message or a repr.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, tzinfo

from ied_workflow.alerts.message import Message
from ied_workflow.alerts.redact import Redactor
from ied_workflow.alerts.render import email_message
from ied_workflow.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError


class EmailChannel:
    """SMTP email to the operations list, one connection per batch."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        user: str | None,
        password: str | None,
        starttls: bool,
        sender: str,
        recipients: Sequence[str],
        timeout: float,
        zone: tzinfo = UTC,
        ssl_context: ssl.SSLContext | None = None,  # tests pass one trusting their own CA
        base_url: str | None = None,  # links to the console; None: no links
    ) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._user, self._password, self._starttls = user, password, starttls
        self._sender, self._recipients = sender, tuple(recipients)
        self._zone, self._ssl_context = zone, ssl_context
        self._base_url = base_url

    def __repr__(self) -> str:
        return (
            f"EmailChannel(host={self._host!r}, port={self._port}, user={self._user!r}, "
            f"password='<redacted>', recipients={len(self._recipients)})"
        )

    @contextmanager
    def open(self) -> Iterator[_EmailSender]:
        """Connect (EHLO, STARTTLS, login) once; QUIT when the batch is done."""
        smtp = self._connect()
        try:
            yield _EmailSender(
                smtp, self._sender, self._recipients, self._zone, self._redact, self._base_url
            )
        finally:
            _quit(smtp)

    def _connect(self) -> smtplib.SMTP:
        try:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        except (OSError, ValueError) as exc:
            raise _smtp_error(exc, self._redact) from None
        try:
            self._greet(smtp)
        except (OSError, ValueError) as exc:
            smtp.close()
            raise _smtp_error(exc, self._redact) from None
        return smtp

    def _greet(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self._starttls:
            smtp.starttls(context=self._ssl_context or ssl.create_default_context())
            smtp.ehlo()  # capabilities change once the channel is encrypted
        if self._user:
            smtp.login(self._user, self._password or "")

    @property
    def _redact(self) -> Redactor:
        return Redactor([self._password] if self._password else [])


class _EmailSender:
    def __init__(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipients: tuple[str, ...],
        zone: tzinfo,
        redact: Redactor,
        base_url: str | None,
    ) -> None:
        self._smtp, self._sender, self._recipients = smtp, sender, recipients
        self._zone, self._redact, self._base_url = zone, redact, base_url
        self._lost = False

    def send(self, message: Message) -> None:
        """Send one email over the batch's connection."""
        if self._lost:  # fail the rest of the batch fast instead of timing out per row
            raise TransientDeliveryError("smtp connection was lost earlier in this batch")
        try:
            email = email_message(
                message, self._sender, self._recipients, self._zone, base_url=self._base_url
            )
        except ValueError:
            raise PermanentDeliveryError(
                "email refused: its headers could not be built (a line break in an address?)"
            ) from None
        try:
            self._smtp.send_message(email, self._sender, list(self._recipients))
        except (OSError, ValueError) as exc:
            self._lost = _connection_lost(exc)
            raise _smtp_error(exc, self._redact) from None


def _smtp_error(exc: BaseException, redact: Redactor) -> DeliveryError:
    """SMTP 4xx, disconnects and network trouble are transient; 5xx and bad input are not."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientDeliveryError("smtp server closed the connection")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error, redact)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Transient if any refusal was 4xx: a retry may reach that recipient.
        code, text = min(exc.recipients.values(), key=lambda answer: answer[0] // 100 != 4)
        return _by_code(code, text, redact, "every recipient was refused")
    if isinstance(exc, smtplib.SMTPException):  # no STARTTLS, no usable AUTH, SMTPUTF8 needed
        return PermanentDeliveryError(f"smtp session failed: {type(exc).__name__}")
    if isinstance(exc, ssl.SSLError):  # also a ValueError; a certificate can be fixed in time
        return TransientDeliveryError(f"smtp TLS failed: {type(exc).__name__}")
    if isinstance(exc, ValueError):
        return PermanentDeliveryError(f"smtp refused a value: {type(exc).__name__}")
    return TransientDeliveryError(f"smtp server unreachable: {type(exc).__name__}")


def _by_code(code: int, text: bytes | str, redact: Redactor, what: str = "") -> DeliveryError:
    answer = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    message = f"smtp server answered {code}{f' ({what})' if what else ''}: {redact(answer)}"
    if 400 <= code < 500:
        return TransientDeliveryError(message)
    return PermanentDeliveryError(message)


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye politely; a connection that already died is just closed."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
