"""Logs: JSON lines for shippers, and no secret in any line.

Celery's report, which runs `celery` as a subprocess, is in tests/worker/test_celery_app.py.
"""

from __future__ import annotations

import json
import logging

from config import logs
from tests.support.settings import build_settings

WEBHOOK = "https://hooks.slack.example/services/T000/B000/verysecrettoken123"


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "ied_workflow.x", "levelno": 30, "levelname": "WARNING"})
    made.msg, made.args = message, args
    made.__dict__.update(extra)
    return made


def test_json_format_is_one_object_per_line_with_extra_fields() -> None:
    line = logs.JsonFormatter().format(record("sent %d", 3, channel="slack", alert_ids=[1, 2]))
    parsed = json.loads(line)
    assert "\n" not in line
    assert parsed | {"time": None} == {
        "time": None,
        "level": "WARNING",
        "logger": "ied_workflow.x",
        "message": "sent 3",
        "channel": "slack",
        "alert_ids": [1, 2],
    }


def test_no_secret_in_a_log_line_url_passwords_and_secret_settings_masked() -> None:
    settings = build_settings("sqlite://", slack_webhook_url=WEBHOOK, smtp_password="hunter22")
    masking = logs.SecretFilter(logs.secrets_of(settings))
    line = record(
        "redis://:pw1@r:6379/0 postgresql+psycopg://u:pw2@db/x %s %s token verysecrettoken123",
        WEBHOOK,
        "hunter22",
    )
    masking.filter(line)
    text = line.getMessage()
    for secret in ("pw1", "pw2", "hunter22", "verysecrettoken123"):
        assert secret not in text
    assert "redis://:***@r:6379/0" in text and "postgresql+psycopg://u:***@db/x" in text


def test_log_level_and_format_settings_are_validated() -> None:
    assert build_settings("sqlite://", log_level="debug").log_level == "DEBUG"
    assert build_settings("sqlite://").log_format == "text"
