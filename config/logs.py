"""Logging for ied-workflow's processes: a level, text or JSON lines, and no secrets.

Every handler gets the same filter: a password in any URL (database, Redis, SMTP) is
masked, and so is every secret setting's value (the Slack webhook URL and its token,
the SMTP password, the secret key). JSON lines carry the message and the record's
extra fields (channel, alert_ids, ...), for log shippers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings

# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^:/@\s]*):(?P<password>[^@\s/]+)@")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def mask_urls(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***.

    Every log line passes here, an access log line per request: text without "://"
    holds no URL to mask and skips the pattern.
    """
    if "://" not in text:
        return text
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


def secrets_of(settings: Settings) -> list[str]:
    """Values that must never reach a log: secret settings, and a webhook URL's parts."""
    found = []
    for secret in (settings.slack_webhook_url, settings.smtp_password, settings.secret_key):
        value = secret.get_secret_value() if secret is not None else ""
        if value:
            found.append(value)
    webhook = settings.slack_webhook_url
    if webhook is not None and "://" in webhook.get_secret_value():
        path = webhook.get_secret_value().split("://", 1)[1].partition("/")[2]
        found += [part for part in (path, path.rstrip("/").rsplit("/", 1)[-1]) if len(part) >= 8]
    return sorted(set(found), key=len, reverse=True)


class SecretFilter(logging.Filter):
    """Rewrites each record's message and traceback with every secret masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return mask_urls(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.mask(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, extra fields, error."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "exc_text"}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def formatter_for(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)


def adopt(logger: logging.Logger, settings: Settings) -> None:
    """Give `logger`'s handlers (set up by Celery, uvicorn, ...) our format and filter,
    and IED_LOG_LEVEL when it is set."""
    secrets = SecretFilter(secrets_of(settings))
    for handler in logger.handlers:
        if settings.log_format == "json":
            handler.setFormatter(formatter_for(settings))
        handler.addFilter(secrets)
    if settings.log_level:
        logger.setLevel(settings.log_level)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (it may be replaced)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(settings: Settings, *, default_level: str = "WARNING") -> None:
    """Root logging for the CLI: WARNING and above on stderr unless IED_LOG_LEVEL says.

    Replaces only a handler it installed before, so an embedding process keeps its own.
    """
    handler = StderrHandler()
    handler.setLevel(settings.log_level or default_level)
    handler.setFormatter(formatter_for(settings))
    handler.addFilter(SecretFilter(secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, StderrHandler)] + [handler]
    if settings.log_level:
        root.setLevel(settings.log_level)


def dict_config(settings: Settings, *, default_level: str = "INFO") -> dict[str, Any]:
    """The same set-up as a logging.config dict, for uvicorn to apply in each worker."""
    level = settings.log_level or default_level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"secrets": {"()": "config.logs.settings_filter"}},
        "formatters": {"ied": {"()": "config.logs.settings_formatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "ied",
                "filters": ["secrets"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {name: {"level": level} for name in ("uvicorn", "uvicorn.access")},
    }


def settings_filter() -> SecretFilter:
    """dictConfig factory: the filter for this process's settings."""
    from config.settings import get_settings

    return SecretFilter(secrets_of(get_settings()))


def settings_formatter() -> logging.Formatter:
    """dictConfig factory: the formatter for this process's settings."""
    from config.settings import get_settings

    return formatter_for(get_settings())
