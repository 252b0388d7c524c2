"""Error details fit for a log line: one short line, with every secret cut out."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from ied_workflow.alerts.render import one_line

DETAIL_MAX = 200  # characters of a server's answer kept in an error message


class Redactor:
    """Cleans a server's answer for an error message: one short line, secrets removed."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    @classmethod
    def for_url(cls, url: str) -> Redactor:
        """The URL, its path and its last segment (the token) are all secret."""
        try:
            path = urlsplit(url).path if "://" in url else ""
        except ValueError:  # unsplittable (e.g. "https://[host/..."): all after :// is secret
            path = url.split("://", 1)[1]
        token = path.rstrip("/").rsplit("/", 1)[-1]
        return cls([url, *(part for part in (path, token) if len(part) >= 8)])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        shown = one_line(text)
        return shown if len(shown) <= DETAIL_MAX else shown[: DETAIL_MAX - 1] + "…"
