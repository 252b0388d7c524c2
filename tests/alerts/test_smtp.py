"""The email channel against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ied_workflow.alerts.channels import EmailChannel
from ied_workflow.alerts.message import Kind, Message
from ied_workflow.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError

MakeMessage = Callable[..., Message]
OPS = ["ops@ied.example", "lead@ied.example"]
SENDER = "alerts@ied.example"


def channel(server: Any, **overrides: Any) -> EmailChannel:
    """An email channel pointed at the test server."""
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "user": None,
        "password": None,
        "starttls": False,
        "sender": SENDER,
        "recipients": OPS,
        "timeout": 2,
    }
    return EmailChannel(**(values | overrides))


def failure(email: EmailChannel, message: Message) -> DeliveryError:
    """The error that opening the channel or one send raises."""
    with pytest.raises(DeliveryError) as caught, email.open() as sender:
        sender.send(message)
    return caught.value


def test_email_arrives_with_text_and_html_parts(smtp, make_message: MakeMessage) -> None:
    with channel(smtp).open() as sender:
        sender.send(make_message())
    [received] = smtp.emails.all()
    assert received.mail_from == SENDER and received.rcpt_tos == OPS
    email = received.message
    assert email["Subject"] == "[ied-workflow] Follow-up #12 is overdue"
    assert email["Message-ID"].startswith("<overdue-12-0.")
    assert "3 h 20 min overdue" in email.get_body(preferencelist=("plain",)).get_content()
    assert "3 h 20 min overdue" in email.get_body(preferencelist=("html",)).get_content()


def test_a_batch_uses_one_connection(smtp, make_item, make_message: MakeMessage) -> None:
    # When two messages are sent in one open() block
    with channel(smtp).open() as sender:
        sender.send(make_message(make_item(1), key="a"))
        sender.send(make_message(make_item(2), key="b"))
    # Then both arrive over the same connection, which ends with QUIT
    assert len(smtp.emails.all()) == 2
    assert smtp.connections() == 1
    assert smtp.quits == 1


def test_ten_thousand_follow_ups_make_one_email(smtp, make_item, make_message) -> None:
    with channel(smtp).open() as sender:
        sender.send(make_message(*(make_item(i) for i in range(10_000))))
    [received] = smtp.emails.all()
    assert "and 9800 more" in received.message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize(
    ("stage", "reply", "error_class"),
    [
        ("rcpt", "451 4.3.0 try again later", TransientDeliveryError),
        ("rcpt", "550 5.1.1 no such mailbox", PermanentDeliveryError),
        ("data", "451 4.3.0 try again later", TransientDeliveryError),
        ("data", "550 5.7.1 message rejected", PermanentDeliveryError),
    ],
)
def test_smtp_refusals_by_code(
    smtp, make_message: MakeMessage, stage: str, reply: str, error_class: type[DeliveryError]
) -> None:
    # Given a server that refuses at RCPT or DATA
    setattr(smtp, f"refuse_{stage}", reply)
    with channel(smtp).open() as sender:
        # When a message is sent, Then 4xx is transient and 5xx permanent, with the reply
        with pytest.raises(DeliveryError) as caught:
            sender.send(make_message())
        assert type(caught.value) is error_class
        assert reply.split()[0] in str(caught.value)
        # And the connection still serves the rest of the batch
        setattr(smtp, f"refuse_{stage}", None)
        sender.send(make_message())
    assert len(smtp.emails.all()) == 1


def test_connection_refused_is_transient(closed_port: int, make_message: MakeMessage) -> None:
    server = type("Closed", (), {"host": "127.0.0.1", "port": closed_port})
    error = failure(channel(server), make_message())
    assert isinstance(error, TransientDeliveryError)
    assert str(error) == "smtp server unreachable: ConnectionRefusedError"


@pytest.fixture
def silent_server() -> Iterator[Any]:
    """A port that accepts TCP connections but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield type("Silent", (), {"host": "127.0.0.1", "port": listener.getsockname()[1]})


def test_server_that_never_greets_times_out_as_transient(
    silent_server: Any, make_message: MakeMessage
) -> None:
    started = time.monotonic()
    error = failure(channel(silent_server, timeout=0.3), make_message())
    assert isinstance(error, TransientDeliveryError)
    assert time.monotonic() - started < 2


def test_lost_connection_fails_the_rest_of_the_batch_fast(smtp, make_message: MakeMessage) -> None:
    with channel(smtp).open() as sender:
        sender.send(make_message())
        # When the server goes away mid-batch
        smtp.stop()
        with pytest.raises(TransientDeliveryError):
            sender.send(make_message())
        # Then the next send fails at once instead of waiting for a timeout
        with pytest.raises(TransientDeliveryError, match="lost earlier"):
            sender.send(make_message())


def test_hostile_summary_cannot_add_headers_or_recipients(
    smtp, make_item, make_message: MakeMessage
) -> None:
    # Given a closed-with-issue summary carrying header injection and markup
    summary = "broken\r\nBcc: x@evil.example\r\n\r\n<script>alert(1)</script>"
    message = make_message(make_item(issue_summary=summary), kind=Kind.CLOSED_WITH_ISSUE)
    # When it is emailed
    with channel(smtp).open() as sender:
        sender.send(message)
    # Then only the configured recipients get it, no header carries customer text,
    # the summary's lines are in the body and the HTML part is escaped
    [received] = smtp.emails.all()
    email = received.message
    assert received.rcpt_tos == OPS
    assert "Bcc" not in email and "x@evil.example" not in str(dict(email.items()))
    assert "broken" not in email["Subject"]
    assert "    | Bcc: x@evil.example" in email.get_body(preferencelist=("plain",)).get_content()
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_line_break_in_an_address_is_permanent(smtp, make_message: MakeMessage) -> None:
    email = channel(smtp, sender="alerts@ied.example\r\nBcc: x@evil.example")
    with email.open() as sender, pytest.raises(PermanentDeliveryError):
        sender.send(make_message())
    assert smtp.emails.all() == []


def test_login_and_wrong_password(smtp_factory, make_message: MakeMessage) -> None:
    # Given a server that wants user "ops" with password "hunter2-secret"
    server = smtp_factory(login=("ops", "hunter2-secret"), auth_require_tls=False)
    # When the right password is given, Then mail goes through
    with channel(server, user="ops", password="hunter2-secret").open() as sender:
        sender.send(make_message())
    assert len(server.emails.all()) == 1
    # When a wrong one is given, Then it is permanent and never shows the password
    wrong = channel(server, user="ops", password="wrong-secret-pw")
    error = failure(wrong, make_message())
    assert isinstance(error, PermanentDeliveryError) and "535" in str(error)
    shown = [str(error), repr(error), "".join(traceback.format_exception(error)), repr(wrong)]
    assert not [text for text in shown if "wrong-secret-pw" in text]


def test_starttls_then_login(smtp_factory, certificate, make_message: MakeMessage) -> None:
    server = smtp_factory(
        login=("ops", "pw"), tls_context=certificate.server_context(), require_starttls=True
    )
    email = channel(
        server, user="ops", password="pw", starttls=True, ssl_context=certificate.client_context()
    )
    with email.open() as sender:
        sender.send(make_message())
    [received] = server.emails.all()
    assert received.tls


def test_starttls_against_an_untrusted_certificate_fails(
    smtp_factory, certificate, make_message: MakeMessage
) -> None:
    server = smtp_factory(tls_context=certificate.server_context())
    error = failure(channel(server, starttls=True), make_message())  # default trust store
    assert isinstance(error, TransientDeliveryError)
    assert server.emails.all() == []
