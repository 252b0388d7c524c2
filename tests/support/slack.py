"""A real HTTP server on 127.0.0.1 playing a Slack incoming webhook.

It records every post (thread-safely: a worker thread or subprocess posts while the test
reads) and answers from a script of replies (status, body, headers such as Retry-After,
delay), then with `delay` seconds of wait and 200 "ok" like Slack.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.waiting import Recorder, pause

# The only markup our Slack text may carry: date tokens, of digits and our own words.
OUR_DATES = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9A-Z: +-]+>")


def without_our_dates(line: str) -> str:
    """A Slack text line with our own `<!date^...>` tokens taken out."""
    return OUR_DATES.sub("", line)


SECRET_PATH = "/services/T000/B000/SECRETsecret"  # tests check "SECRET" never shows
_ITEM = re.compile(r"^\*Follow-up #(\d+)\*", re.MULTILINE)


@dataclass
class Reply:
    """One scripted answer of the fake webhook."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class SlackPost:
    """One webhook post as the server received it."""

    at: float  # time.time() on arrival, before the (possibly slow) answer
    path: str
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
        return [int(found) for found in _ITEM.findall(self.text)]


class FakeSlack:
    """The webhook server; a context manager, so that a script can use it too.

    `delay` holds every unscripted answer that long, so a test can kill a sender
    mid-request; `reply()` scripts the next answers.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.posts: Recorder[SlackPost] = Recorder()
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()  # ends slow answers at once on close
        self._server = _SlackServer(("127.0.0.1", 0), _SlackHandler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def secret(self) -> str:
        """The webhook's path, which carries its secret token."""
        return SECRET_PATH

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{SECRET_PATH}"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [post.body for post in self.posts.all()]

    @property
    def paths(self) -> list[str]:
        return [post.path for post in self.posts.all()]

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reply(
        self, status: int, body: str, headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        """Queue the answer to the next request not yet scripted."""
        with self._lock:
            self._replies.append(Reply(status, body, headers or {}, delay))

    def clear_replies(self) -> None:
        """Forget the scripted answers not used yet: answer 200 "ok" again."""
        with self._lock:
            self._replies.clear()

    def wait_for(self, count: int, timeout: float) -> list[SlackPost]:
        """At least `count` posts, waiting up to `timeout` seconds."""
        return self.posts.wait_for(count, timeout)

    def follow_up_ids(self) -> list[int]:
        """Every follow-up listed, once per message that listed it (a repeat: a duplicate)."""
        return [listed for post in self.posts.all() for listed in post.follow_up_ids]

    def _received(self, path: str, body: dict[str, Any]) -> Reply:
        self.posts.add(SlackPost(time.time(), path, body))
        with self._lock:
            reply = self._replies.popleft() if self._replies else Reply(delay=self.delay)
        if reply.delay:
            pause(reply.delay, self._closing)
        return reply


class _SlackServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class _SlackHandler(BaseHTTPRequestHandler):
    server: _SlackServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        reply = self.server.fake._received(self.path, json.loads(self.rfile.read(length)))
        with contextlib.suppress(OSError):  # the sender may have given up or died meanwhile
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
