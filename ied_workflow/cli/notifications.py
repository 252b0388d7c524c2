"""`ied-workflow notifications ...`: alerts and their delivery per channel (the outbox)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ied_workflow.alerts import deliveries
from ied_workflow.cli.common import JSON, NOW, when, workflow
from ied_workflow.cli.output import console, emit_json, say

if TYPE_CHECKING:
    from ied_workflow.alerts.dispatch import DispatchResult

app = typer.Typer(help="Alerts and their delivery per channel.", no_args_is_help=True)


class DeliveryStatus(StrEnum):
    PENDING = deliveries.PENDING
    SENT = deliveries.SENT
    FAILED = deliveries.FAILED


@app.command("dispatch")
def dispatch_now(now: str | None = NOW, as_json: bool = JSON) -> None:
    """Send pending alerts now, in this process, on the channels configured here."""
    result = workflow().dispatch(now=when(now, "--now"))
    if as_json:
        emit_json(result)
    else:
        say(dispatch_summary(result))


def dispatch_summary(result: DispatchResult) -> str:
    """`slack: 3 alerts sent in 1 message; email: 2 alerts to retry` or `nothing to send`."""
    parts = []
    channels = sorted({*result.sent, *result.retrying, *result.failed})
    for channel in channels:
        said = []
        if sent := result.sent.get(channel, 0):
            messages = result.messages.get(channel, 0)
            said.append(f"{_n(sent, 'alert')} sent in {_n(messages, 'message')}")
        if retrying := result.retrying.get(channel, 0):
            said.append(f"{_n(retrying, 'alert')} to retry")
        if failed := result.failed.get(channel, 0):
            said.append(f"{_n(failed, 'alert')} failed for good")
        parts.append(f"{channel}: {', '.join(said)}")
    return "; ".join(parts) if parts else "nothing to send"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@app.command("list")
def list_notifications(
    status: DeliveryStatus | None = typer.Option(None, "--status", help="Only this status."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="Rows to show at most."),
    as_json: bool = JSON,
) -> None:
    """Deliveries (one per alert and channel), newest first; then alerts no channel took yet."""
    wf = workflow()
    rows = wf.notifications(None if status is None else status.value, limit=limit)
    waiting = wf.undelivered_alerts(limit=limit) if status in (None, DeliveryStatus.PENDING) else []
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{len(rows)} notifications", box=box.SIMPLE_HEAD)
    for header in ("id", "kind", "channel", "follow-up", "status", "attempts", "last error"):
        table.add_column(header)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["kind"],
            row["channel"],
            str(row["follow_up_id"] or "-"),
            row["status"],
            str(row["attempts"]),
            Text(row["last_error"] or "-"),
        )
    console.print(table)
    if waiting:
        say(f"{len(waiting)} alert(s) not yet taken by any channel: the next dispatch sends them")


@app.command("retry")
def retry(
    notification_id: int = typer.Argument(
        ..., help="The notification's id (see `notifications list`).", show_default=False
    ),
    now: str | None = NOW,
) -> None:
    """Put a failed notification back in line for delivery (due at once, or at --now)."""
    workflow().retry_notification(notification_id, now=when(now, "--now"))
    say(f"notification {notification_id} is pending again")
