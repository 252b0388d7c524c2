"""The TLS certificate the email channel's STARTTLS tests trust, for the alerts tests.

The Slack webhook and SMTP servers (`slack`, `smtp`, `smtp_factory`) and the messages to
send (`now`, `make_item`, `make_message`) are in tests/conftest.py.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.tls import Certificate


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
