"""Dispatch of the overdue alerts through the outbox to a local Slack and SMTP sink.

The product run is `ied_workflow.dispatch.dispatch` with the channels built from
settings. The baseline claims the same rows in batches of the same size with raw SQL,
sends one minimal message per batch (a small JSON post; a short email over one SMTP
connection per batch) and marks the rows sent.
"""

from __future__ import annotations

import http.client
import json
import math
import smtplib
import time
from typing import Any
from urllib.parse import urlsplit

from benchmarks.common import NOW, Figure, Goal, bench_settings
from benchmarks.scan import Scanner
from benchmarks.sinks import Sinks
from ied_workflow.dispatch import dispatch
from ied_workflow.alerts.channels import channels_from_settings

CLAIM = """
UPDATE notifications SET claimed_until = %(until)s, attempts = attempts + 1
WHERE id IN (
  SELECT id FROM notifications
  WHERE status = 'pending' AND channel = %(channel)s AND next_attempt_at <= %(now)s
    AND (claimed_until IS NULL OR claimed_until < %(now)s)
  ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
RETURNING id, follow_up_id
"""
MARK_SENT = (
    "UPDATE notifications SET status = 'sent', sent_at = %s, claimed_until = NULL "
    "WHERE id = ANY(%s)"
)


def _raw_dispatch(scanner: Scanner, sinks: Sinks, batch: int) -> int:
    """Claim, send one minimal message per batch, mark sent; returns rows sent."""
    pg, sent = scanner.pg, 0
    for channel in scanner.channels:
        while True:
            with pg.transaction():
                values = {"until": NOW, "channel": channel, "now": NOW, "limit": batch}
                rows = pg.execute(CLAIM, values).fetchall()
            if not rows:
                break
            _send_minimal(channel, sinks, len(rows))
            with pg.transaction():
                pg.execute(MARK_SENT, (NOW, [row[0] for row in rows]))
            sent += len(rows)
    return sent


def _send_minimal(channel: str, sinks: Sinks, count: int) -> None:
    text = f"{count} follow-ups are overdue"
    if channel == "email":
        with smtplib.SMTP("127.0.0.1", sinks.smtp_port, timeout=10) as smtp:
            body = f"Subject: overdue\r\nFrom: a@b.example\r\nTo: ops@ied.example\r\n\r\n{text}"
            smtp.sendmail("a@b.example", ["ops@ied.example"], body.encode())
        return
    where = urlsplit(sinks.slack_url)
    connection = http.client.HTTPConnection(where.netloc, timeout=10)
    connection.request("POST", where.path, json.dumps({"text": text}), {"Content-Type": "json"})
    if connection.getresponse().read() != b"ok":
        raise RuntimeError("the slack sink did not answer ok")
    connection.close()


def measure(url: str, runs: int, overdue: int, batch_size: int | None = None) -> list[Figure]:
    """Dispatch figures: alerts marked sent per second, messages, SMTP connections.

    `batch_size` overrides the notify_batch_size setting (default: the product's default).
    """
    sinks = Sinks()
    sizes = {} if batch_size is None else {"notify_batch_size": batch_size}
    settings = bench_settings(
        url, slack_webhook_url=sinks.slack_url, smtp_port=sinks.smtp_port, **sizes
    )
    scanner = Scanner(url)
    scanner.workflow.settings = settings
    channels = channels_from_settings(settings)
    got: dict[str, list[float]] = {k: [] for k in ("rate", "raw_rate", "slack", "mail", "conns")}
    try:
        for i in range(runs):
            for side in ("product", "raw") if i % 2 == 0 else ("raw", "product"):
                _one(side, scanner, sinks, channels, got, overdue)
    finally:
        sinks.close()
        scanner.close()
    scan_batches = math.ceil(overdue / settings.scan_batch_size)
    dispatch_batches = math.ceil(overdue / settings.notify_batch_size)
    per_scan = f"scan batch size {settings.scan_batch_size}"
    return [
        Figure(
            "dispatch, alerts marked sent",
            "alerts/s",
            got["rate"],
            got["raw_rate"],
            None,
            f"{overdue} alerts x 2 channels; baseline: raw claim, minimal message, mark sent",
        ),
        Figure(
            "dispatch, Slack messages",
            "messages",
            got["slack"],
            goal=Goal("median", "<=", scan_batches),
            note=f"at most one per channel per scan batch ({per_scan})",
        ),
        Figure(
            "dispatch, emails",
            "messages",
            got["mail"],
            goal=Goal("median", "<=", scan_batches),
            note=f"at most one per channel per scan batch ({per_scan})",
        ),
        Figure(
            "dispatch, SMTP connections",
            "connections",
            got["conns"],
            goal=Goal("median", "<=", dispatch_batches),
            note=f"one per dispatch batch of {settings.notify_batch_size}, never one per message",
        ),
    ]


def _one(
    side: str,
    scanner: Scanner,
    sinks: Sinks,
    channels: dict[str, Any],
    got: dict[str, list[float]],
    overdue: int,
) -> None:
    scanner.reset_outbox()
    (scanner.product if side == "product" else scanner.raw)()
    sinks.reset()
    started = time.perf_counter()
    if side == "product":
        result = dispatch(scanner.workflow, channels, NOW)
        sent = sum(result.sent.values())
    else:
        sent = _raw_dispatch(scanner, sinks, scanner.workflow.settings.notify_batch_size)
    elapsed = time.perf_counter() - started
    if sent != overdue * len(scanner.channels):
        raise RuntimeError(f"{side} dispatch sent {sent} alerts, expected {overdue} per channel")
    got["rate" if side == "product" else "raw_rate"].append(sent / elapsed)
    if side == "product":
        counts = sinks.counts()
        got["slack"].append(counts["slack_posts"])
        got["mail"].append(counts["emails"])
        got["conns"].append(counts["smtp_connections"])
