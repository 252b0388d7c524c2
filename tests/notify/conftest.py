"""Messages to render and send, and a TLS certificate, for the notify tests.

The Slack webhook and SMTP servers (`slack`, `smtp`, `smtp_factory`) are in tests/conftest.py.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ied_workflow.alerts.message import AlertItem, Kind, Message
from tests.support.data import NOW


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
