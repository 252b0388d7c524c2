"""The outbox dispatcher: claim pending alerts, send one message per kind, record the result.

Claims and results are short transactions of their own; nothing is sent while a
transaction is open. A dispatcher that dies between claim and result leaves rows
whose lease runs out, and the next run sends them again (at least once).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from ied_workflow import outbox
from ied_workflow import tables as t
from ied_workflow.errors import PermanentDeliveryError, TransientDeliveryError
from ied_workflow.notify.channels import Channel, Sender
from ied_workflow.notify.message import AlertItem, Kind, Message
from ied_workflow.workflow import Workflow


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
    workflow: Workflow, channels: Mapping[str, Channel], now: datetime, *, max_batches: int = 100
) -> DispatchResult:
    """Send every due pending alert of each channel, batch by batch.

    `now` is when the run starts; the clock then moves on with real time, so a batch
    claimed late in a long run gets a full lease instead of one already expired.
    """
    result = DispatchResult()
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    for name, channel in channels.items():
        for _ in range(max_batches):
            if not _one_batch(workflow, name, channel, clock, result):
                break
    return result


def _one_batch(
    workflow: Workflow,
    name: str,
    channel: Channel,
    clock: Callable[[], datetime],
    result: DispatchResult,
) -> bool:
    s = workflow.settings
    lease = timedelta(seconds=s.notify_lease_seconds)
    claimed_at = clock()
    claimed = workflow.transaction(
        lambda c: _claim_with_items(c, name, claimed_at, s.notify_batch_size, lease)
    )
    if not claimed:
        return False
    groups = _group(claimed[0])
    outcomes = _send(channel, groups, claimed[1], claimed_at)
    finished_at = clock()
    workflow.transaction(lambda c: _record(c, outcomes, finished_at, s.notify_max_attempts))
    transient = False
    for rows, error in outcomes:
        transient = transient or isinstance(error, TransientDeliveryError)
        outcome = (
            result.sent
            if error is None
            else result.failed
            if isinstance(error, PermanentDeliveryError)
            else result.retrying
        )
        result.count(outcome, name, len(rows))
        if error is None:
            result.count(result.messages, name, 1)
    return not transient  # after a transient failure, this run leaves the channel alone


def _claim_with_items(
    conn: Connection, channel: str, now: datetime, limit: int, lease: timedelta
) -> tuple[list[dict[str, Any]], dict[int, AlertItem]] | None:
    rows = outbox.claim(conn, channel, now, limit=limit, lease=lease)
    if not rows:
        return None
    ids = {row["follow_up_id"] for row in rows if row["follow_up_id"] is not None}
    return rows, _alert_items(conn, ids)


def _alert_items(conn: Connection, follow_up_ids: set[int]) -> dict[int, AlertItem]:
    fu = t.follow_ups.c
    query = select(
        fu.id,
        fu.lead_id,
        fu.installer_id,
        fu.status,
        fu.due_at,
        fu.contact_attempt_count,
        fu.last_contact_outcome,
        fu.issue_summary,
    )
    rows = conn.execute(query.where(fu.id.in_(follow_up_ids)))
    return {row.id: AlertItem.of(row) for row in rows}


def _group(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["kind"], []).append(row)
    return groups


Outcome = tuple[list[dict[str, Any]], Exception | None]


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
    """The message for a group of outbox rows; its key is stable for the same rows."""
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


def _record(conn: Connection, outcomes: list[Outcome], now: datetime, max_attempts: int) -> None:
    for rows, error in outcomes:
        if error is None:
            outbox.mark_sent(conn, [row["id"] for row in rows], now)
            continue
        retry_after = getattr(error, "retry_after", None)
        outbox.mark_failed(
            conn,
            rows,
            f"{type(error).__name__}: {error}",
            now,
            permanent=isinstance(error, PermanentDeliveryError),
            max_attempts=max_attempts,
            retry_after=retry_after,
        )
