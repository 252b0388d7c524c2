"""Dispatch of the overdue alerts, fanned out to a local Slack and SMTP sink.

The product run is `Workflow.dispatch` with the channels built from settings. The
baseline does the same work with raw SQL, channel by channel: records the channel and
fans the alerts out to it (one INSERT ... SELECT of a pending delivery for each alert
without one on that channel), then claims the deliveries in batches of the same size
with their alerts and follow-ups (the message's content), sends one minimal message
per batch (a small JSON post; a short email over one SMTP connection per batch) and
marks the batch sent.
"""

from __future__ import annotations

import http.client
import json
import math
import smtplib
import time
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from benchmarks.common import NOW, Figure, Goal, bench_settings
from benchmarks.scan import Scanner
from benchmarks.sinks import Sinks
from ied_workflow.alerts.channels import Channel, channels_from_settings
from ied_workflow.alerts.deliveries import FAN_OUT_OVERLAP

# A channel met for the first time takes the last `backlog` of alerts; a known one
# takes everything since its last fan-out (less the overlap), as the product does.
RECORD_CHANNEL = (
    "INSERT INTO channels (name, first_used_at) VALUES (%(channel)s, %(now)s) "
    "ON CONFLICT DO NOTHING"
)
FAN_OUT = """
INSERT INTO deliveries (alert_id, channel, status, attempts, next_attempt_at)
SELECT a.id, %(channel)s::varchar, 'pending', 0, %(now)s
FROM alerts a
WHERE a.created_at >= (
    SELECT greatest(first_used_at - %(backlog)s,
                    coalesce(fanned_out_at - %(overlap)s, first_used_at - %(backlog)s))
    FROM channels WHERE name = %(channel)s::varchar)
  AND NOT EXISTS (
    SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.channel = %(channel)s::varchar)
ON CONFLICT DO NOTHING
"""
FANNED_OUT = "UPDATE channels SET fanned_out_at = %(now)s WHERE name = %(channel)s"
CLAIM = """
WITH claimed AS (
  UPDATE deliveries SET claimed_until = %(until)s, attempts = attempts + 1
  WHERE id IN (
    SELECT id FROM deliveries
    WHERE status = 'pending' AND channel = %(channel)s AND next_attempt_at <= %(now)s
      AND (claimed_until IS NULL OR claimed_until < %(now)s)
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
  RETURNING id, alert_id
)
SELECT c.id, a.kind, f.lead_id, a.payload, f.installer_id, f.status, f.due_at,
       f.contact_attempt_count, f.last_contact_outcome, f.issue_summary
FROM claimed c
JOIN alerts a ON a.id = c.alert_id
LEFT JOIN follow_ups f ON f.id = a.follow_up_id
ORDER BY c.id
"""
MARK_SENT = (
    "UPDATE deliveries SET status = 'sent', sent_at = %s, claimed_until = NULL, "
    "last_error = NULL WHERE id = ANY(%s)"
)


def _raw_dispatch(scanner: Scanner, sinks: Sinks, channels: Sequence[str], batch: int) -> int:
    """Fan out, claim with content, send one minimal message per batch, mark sent."""
    pg, sent = scanner.pg, 0
    settings = scanner.workflow.settings
    backlog = timedelta(hours=settings.alert_backlog_hours)
    lease = NOW + timedelta(seconds=settings.notify_lease_seconds)
    for channel in channels:
        fan_out = True
        while True:
            with pg.transaction():
                values = {"channel": channel, "now": NOW}
                if fan_out:
                    pg.execute(RECORD_CHANNEL, values)
                    pg.execute(FAN_OUT, {**values, "backlog": backlog, "overlap": FAN_OUT_OVERLAP})
                    pg.execute(FANNED_OUT, values)
                    fan_out = False
                rows = pg.execute(CLAIM, {**values, "until": lease, "limit": batch}).fetchall()
            if not rows:
                break
            _send_minimal(channel, sinks, [row[2] for row in rows])
            with pg.transaction():
                pg.execute(MARK_SENT, (NOW, [row[0] for row in rows]))
            sent += len(rows)
    return sent


def _send_minimal(channel: str, sinks: Sinks, leads: Sequence[str | None]) -> None:
    text = "\n".join([f"{len(leads)} follow-ups are overdue:", *filter(None, leads)])
    if channel == "email":
        with smtplib.SMTP("127.0.0.1", sinks.smtp_port, timeout=10) as smtp:
            head = "Subject: overdue\r\nFrom: a@b.example\r\nTo: ops@ied.example\r\n\r\n"
            body = head + text.replace("\n", "\r\n")
            smtp.sendmail("a@b.example", ["ops@ied.example"], body.encode())
        return
    where = urlsplit(sinks.slack_url)
    connection = http.client.HTTPConnection(where.netloc, timeout=10)
    connection.request("POST", where.path, json.dumps({"text": text}), {"Content-Type": "json"})
    if connection.getresponse().read() != b"ok":
        raise RuntimeError("the slack sink did not answer ok")
    connection.close()


def measure(url: str, runs: int, overdue: int) -> list[Figure]:
    """Dispatch figures, on the product's batch sizes: alerts marked sent per second,
    messages, SMTP connections."""
    sinks = Sinks()
    settings = bench_settings(url, slack_webhook_url=sinks.slack_url, smtp_port=sinks.smtp_port)
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
            Goal("ratio", ">=", 0.7),
            f"{overdue} alerts x {len(channels)} channels; baseline: raw fan-out, claim with "
            "alert and follow-up, one minimal message per batch, mark sent",
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
    channels: dict[str, Channel],
    got: dict[str, list[float]],
    overdue: int,
) -> None:
    scanner.reset_alerts()
    (scanner.product if side == "product" else scanner.raw)()
    sinks.reset()
    started = time.perf_counter()
    if side == "product":
        result = scanner.workflow.dispatch(channels, now=NOW)
        sent = sum(result.sent.values())
    else:
        batch = scanner.workflow.settings.notify_batch_size
        sent = _raw_dispatch(scanner, sinks, list(channels), batch)
    elapsed = time.perf_counter() - started
    if sent != overdue * len(channels):
        raise RuntimeError(f"{side} dispatch sent {sent} alerts, expected {overdue} per channel")
    got["rate" if side == "product" else "raw_rate"].append(sent / elapsed)
    if side == "product":
        counts = sinks.counts()
        got["slack"].append(counts["slack_posts"])
        got["mail"].append(counts["emails"])
        got["conns"].append(counts["smtp_connections"])
