"""A local Slack webhook and SMTP server in their own process, counting what arrives.

They run in a child process so that serving does not compete with the dispatcher for
the benchmark process's interpreter lock.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

SLACK_PATH = "/services/T000/B000/bench"


@dataclass
class Counts:
    """What the sinks received since the last reset."""

    slack_posts: int = 0
    slack_bytes: int = 0
    emails: int = 0
    smtp_peers: set[Any] = field(default_factory=set)
    slack_log: list[tuple[float, bytes]] = field(default_factory=list)  # (time.time(), body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {
                "slack_posts": self.slack_posts,
                "slack_bytes": self.slack_bytes,
                "emails": self.emails,
                "smtp_connections": len(self.smtp_peers),
            }


class _Slack(BaseHTTPRequestHandler):
    server: _SlackServer
    protocol_version = "HTTP/1.1"  # keep-alive for clients that can use it

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received = time.time()  # the wall clock: latency is measured against dueAt
        with self.server.counts.lock:
            self.server.counts.slack_log.append((received, body))
            self.server.counts.slack_posts += 1
            self.server.counts.slack_bytes += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _SlackServer(ThreadingHTTPServer):
    counts: Counts


@dataclass
class _Mail:
    counts: Counts

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.counts.lock:
            self.counts.emails += 1
            self.counts.smtp_peers.add(session.peer)
        return "250 Message accepted"


def _serve(pipe: Any) -> None:
    counts = Counts()
    slack = _SlackServer(("127.0.0.1", 0), _Slack)
    slack.counts = counts
    threading.Thread(target=slack.serve_forever, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    mail = Controller(_Mail(counts), hostname="127.0.0.1", port=smtp_port)
    mail.start()
    pipe.send((slack.server_address[1], smtp_port))
    while (command := pipe.recv()) != "stop":
        if command == "reset":
            with counts.lock:
                counts.slack_posts = counts.slack_bytes = counts.emails = 0
                counts.smtp_peers.clear()
                counts.slack_log.clear()
        if command == "slack_log":
            with counts.lock:
                pipe.send(list(counts.slack_log))
            continue
        pipe.send(counts.snapshot())
    mail.stop()
    slack.shutdown()


class Sinks:
    """Handle on the sink process: its addresses, and counters to read and reset."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        slack_port, self.smtp_port = self._pipe.recv()
        self.slack_url = f"http://127.0.0.1:{slack_port}{SLACK_PATH}"

    def reset(self) -> None:
        self._pipe.send("reset")
        self._pipe.recv()

    def counts(self) -> dict[str, int]:
        self._pipe.send("counts")
        answer: dict[str, int] = self._pipe.recv()
        return answer

    def slack_log(self) -> list[tuple[float, bytes]]:
        """Every Slack post since the last reset: (receive time, body)."""
        self._pipe.send("slack_log")
        log: list[tuple[float, bytes]] = self._pipe.recv()
        return log

    def close(self) -> None:
        self._pipe.send("stop")
        self._process.join(timeout=10)
