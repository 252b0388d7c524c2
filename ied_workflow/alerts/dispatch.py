"""The dispatcher: fan alerts out to its channels, claim, send one message per kind, record.

Fan-out with claim, and each batch's results, are short units of work of their own;
nothing is sent while a transaction is open. A dispatcher that dies between claim and
result leaves deliveries whose lease runs out, and the next run sends them again (at
least once). Every instant comes from the database's clock, so dispatchers on hosts
whose clocks disagree still agree on leases and next attempts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from config.settings import Settings
from ied_workflow.alerts import deliveries, measurements
from ied_workflow.alerts.channels import Channel, Sender
from ied_workflow.alerts.message import AlertItem, Kind, Message
from ied_workflow.db import tables as t
from ied_workflow.db.dialects import in_ids
from ied_workflow.db.unit_of_work import Database, UnitOfWork
from ied_workflow.errors import PermanentDeliveryError, TransientDeliveryError

Outcome = tuple[list[dict[str, Any]], Exception | None]
log = logging.getLogger(__name__)
SHOWN_IDS = 10  # alert ids named in one log line; "and N more" beyond


@dataclass
class DispatchResult:
    """What one dispatch run did, per channel."""

    messages: dict[str, int] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    retrying: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: dict[str, int], channel: str, rows: int) -> None:
        outcome[channel] = outcome.get(channel, 0) + rows


def dispatch(
    db: Database,
    channels: Mapping[str, Channel],
    settings: Settings,
    *,
    now: datetime | None = None,
    max_batches: int = 100,
) -> DispatchResult:
    """Send every due pending alert on each of `channels`, batch by batch."""
    result = DispatchResult()
    for name, channel in channels.items():
        fan_out = True
        for _ in range(max_batches):
            if not _one_batch(db, name, channel, settings, result, now=now, fan_out=fan_out):
                break
            fan_out = False
    return result


def _one_batch(
    db: Database,
    name: str,
    channel: Channel,
    settings: Settings,
    result: DispatchResult,
    *,
    now: datetime | None,
    fan_out: bool,
) -> bool:
    """Claim, send and record one batch; False when there was nothing or the channel failed."""

    def claim(uow: UnitOfWork) -> tuple[list[dict[str, Any]], dict[int, AlertItem], datetime]:
        if fan_out:
            deliveries.fan_out(uow, name, backlog=timedelta(hours=settings.alert_backlog_hours))
        lease = timedelta(seconds=settings.notify_lease_seconds)
        rows = deliveries.claim(uow, name, limit=settings.notify_batch_size, lease=lease)
        return rows, _alert_items(uow, rows), uow.now

    rows, items, claimed_at = db.run(claim, now=now)
    if not rows:
        return False
    outcomes = _send(channel, _group(rows), items, claimed_at)
    db.run(lambda uow: _record(uow, name, outcomes, settings.notify_max_attempts), now=now)
    transient = False
    for sent_rows, error in outcomes:
        transient = transient or isinstance(error, TransientDeliveryError)
        outcome = (
            result.sent
            if error is None
            else result.failed
            if isinstance(error, PermanentDeliveryError)
            else result.retrying
        )
        result.count(outcome, name, len(sent_rows))
        if error is None:
            result.count(result.messages, name, 1)
    return not transient  # after a transient failure, this run leaves the channel alone


def _alert_items(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> dict[int, AlertItem]:
    """The follow-ups the claimed alerts are about, as the alerts show them."""
    ids = {row["follow_up_id"] for row in rows if row["follow_up_id"] is not None}
    if not ids:
        return {}
    query = select(*_ITEM_COLUMNS).where(in_ids(uow.conn, t.follow_ups.c.id, ids))
    return {row[0]: AlertItem(*row) for row in uow.conn.execute(query).all()}


# The follow-up's columns in AlertItem's field order, so a row maps with AlertItem(*row).
_ITEM_COLUMNS = [
    t.follow_ups.c["id" if f.name == "follow_up_id" else f.name] for f in fields(AlertItem)
]


def _group(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["kind"], []).append(row)
    return groups


def _send(
    channel: Channel,
    groups: dict[str, list[dict[str, Any]]],
    items: dict[int, AlertItem],
    now: datetime,
) -> list[Outcome]:
    """One message per kind over one open channel; each group's rows share its fate.

    After a transient failure (429, 5xx, connection lost) the channel is left alone
    until the rows' next attempt, so the remaining groups wait with the same error.
    """
    outcomes: list[Outcome] = []
    try:
        with channel.open() as sender:
            for kind, rows in groups.items():
                outcomes.append(_send_group(sender, kind, rows, items, now, outcomes))
    except (TransientDeliveryError, PermanentDeliveryError) as exc:  # opening failed
        done = {id(rows) for rows, _ in outcomes}
        outcomes += [(rows, exc) for rows in groups.values() if id(rows) not in done]
    return outcomes


def _send_group(
    sender: Sender,
    kind: str,
    rows: list[dict[str, Any]],
    items: dict[int, AlertItem],
    now: datetime,
    earlier: list[Outcome],
) -> Outcome:
    backing_off = next((e for _, e in earlier if isinstance(e, TransientDeliveryError)), None)
    if backing_off is not None:
        return rows, backing_off
    try:
        sender.send(message_for(kind, rows, items, now))
    except (TransientDeliveryError, PermanentDeliveryError) as exc:
        return rows, exc
    return rows, None


def message_for(
    kind: str, rows: Sequence[dict[str, Any]], items: Mapping[int, AlertItem], now: datetime
) -> Message:
    """The message for a group of deliveries; its key is stable for the same deliveries."""
    ids = sorted(row["id"] for row in rows)
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    follow_ups = dict.fromkeys(row["follow_up_id"] for row in rows if row["follow_up_id"])
    alert_items = tuple(items[f] for f in follow_ups if f in items)
    counts: dict[str, int] = next(
        (row["payload"] for row in rows if kind == Kind.DIGEST and row["payload"]), {}
    )
    return Message(
        kind=Kind(kind),
        key=f"{kind}-{ids[0]}-{len(ids)}-{digest}",
        now=now,
        items=alert_items,
        counts=counts,
    )


def _record(uow: UnitOfWork, channel: str, outcomes: list[Outcome], max_attempts: int) -> None:
    """Write each group's result, count it for /metrics, and tell the logs what failed."""
    counts: dict[tuple[str, str], float] = {}
    for rows, error in outcomes:
        if error is None:
            deliveries.mark_sent(uow, [row["id"] for row in rows])
            _tally(counts, measurements.DELIVERIES_SENT, channel, len(rows))
            continue
        decided = deliveries.mark_failed(
            uow,
            rows,
            f"{type(error).__name__}: {error}",
            permanent=isinstance(error, PermanentDeliveryError),
            max_attempts=max_attempts,
            retry_after=getattr(error, "retry_after", None),
        )
        _log_failure(channel, rows, decided, error, max_attempts)
        for row in decided:
            name = (
                measurements.DELIVERIES_FAILED
                if row["new_status"] == deliveries.FAILED
                else measurements.DELIVERIES_RETRIED
            )
            _tally(counts, name, channel, 1)
    measurements.add(uow, counts)


def _tally(counts: dict[tuple[str, str], float], name: str, channel: str, n: int) -> None:
    counts[(name, channel)] = counts.get((name, channel), 0) + n


def _log_failure(
    channel: str,
    rows: Sequence[dict[str, Any]],
    decided: Sequence[dict[str, Any]],
    error: Exception,
    max_attempts: int,
) -> None:
    """WARNING for deliveries that will be tried again, ERROR for those given up on.

    The error text was cleaned of secrets by the channel (see alerts/redact.py).
    """
    alert_of = {row["id"]: row for row in rows}
    given_up = [alert_of[r["delivery_id"]] for r in decided if r["new_status"] == deliveries.FAILED]
    retrying = [r for r in decided if r["new_status"] != deliveries.FAILED]
    reason = f"{type(error).__name__}: {error}"
    if retrying:
        again = [alert_of[r["delivery_id"]] for r in retrying]
        log.warning(
            "%s delivery failed for %s (attempt %d of %d); next attempt at %s: %s",
            channel,
            _alerts(again),
            max(row["attempts"] for row in again),
            max_attempts,
            min(r["next_at"] for r in retrying).isoformat(timespec="seconds"),
            reason,
            extra={"channel": channel, "alert_ids": _ids(again), "outcome": "retrying"},
        )
    if given_up:
        log.error(
            "%s delivery failed for good for %s after %d attempt(s): %s;"
            " see `ied-workflow notifications list --status failed`",
            channel,
            _alerts(given_up),
            max(row["attempts"] for row in given_up),
            reason,
            extra={"channel": channel, "alert_ids": _ids(given_up), "outcome": "failed"},
        )


def _ids(rows: Sequence[dict[str, Any]]) -> list[int]:
    return sorted(row["alert_id"] for row in rows)


def _alerts(rows: Sequence[dict[str, Any]]) -> str:
    """`alert 12 (overdue, follow-up 7)`, or `3 overdue alerts 12, 13, 14` for a group."""
    ids = _ids(rows)
    if len(ids) == 1:
        row = rows[0]
        about = f", follow-up {row['follow_up_id']}" if row["follow_up_id"] else ""
        return f"alert {ids[0]} ({row['kind']}{about})"
    shown = ", ".join(map(str, ids[:SHOWN_IDS]))
    more = f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    return f"{len(ids)} {rows[0]['kind']} alerts {shown}{more}"
