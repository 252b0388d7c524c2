"""Commands for developers and operators of the background side: scan, outbox, tasks."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ied_workflow.alerts import deliveries
from ied_workflow.alerts.channels import channel_by_name
from ied_workflow.alerts.message import Kind, Message
from ied_workflow.cli.common import JSON, when, workflow
from ied_workflow.cli.output import console, emit_json, say
from ied_workflow.errors import ValidationError

scan_app = typer.Typer(help="Scans the scheduler runs.", no_args_is_help=True)
notifications_app = typer.Typer(help="Alerts and their delivery per channel.", no_args_is_help=True)
tasks_app = typer.Typer(help="Celery tasks, sent by name through the broker.", no_args_is_help=True)
notify_app = typer.Typer(help="Check a notification channel.", no_args_is_help=True)

TASK_NAMES = (
    "ied.scan_overdue",
    "ied.dispatch_notifications",
    "ied.send_digest",
    "ied.notify_closed_with_issue",
)
NOW = typer.Option(None, "--now", help="Act as if it were this instant (ISO 8601).")


class DeliveryStatus(StrEnum):
    PENDING = deliveries.PENDING
    SENT = deliveries.SENT
    FAILED = deliveries.FAILED


class ChannelName(StrEnum):
    SLACK = "slack"
    EMAIL = "email"
    CONSOLE = "console"


@scan_app.command("overdue")
def scan_overdue(now: str | None = NOW, as_json: bool = JSON) -> None:
    """Record an alert for every follow-up overdue now (in-process, idempotent)."""
    result = workflow().scan_overdue(when(now, "--now"))
    emit_json(result) if as_json else say(f"overdue alerts written: {result.alerts_written}")


@notifications_app.command("dispatch")
def dispatch_now(now: str | None = NOW, as_json: bool = JSON) -> None:
    """Send pending alerts now, in this process, on the channels configured here."""
    result = workflow().dispatch(now=when(now, "--now"))
    if as_json:
        emit_json(result)
    else:
        say(
            f"messages sent: {result.messages}, alerts sent: {result.sent}, "
            f"retrying: {result.retrying}, failed: {result.failed}"
        )


@notifications_app.command("list")
def list_notifications(
    status: DeliveryStatus | None = typer.Option(None, "--status"),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
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


@notifications_app.command("retry")
def retry(notification_id: int, now: str | None = NOW) -> None:
    """Put a failed notification back in line for delivery (due at once, or at --now)."""
    workflow().retry_notification(notification_id, now=when(now, "--now"))
    say(f"notification {notification_id} is pending again")


@tasks_app.command("send")
def send_task(name: str, now: str | None = NOW) -> None:
    """Enqueue a task by its name through the Redis broker (a worker runs it)."""
    if name not in TASK_NAMES:
        raise ValidationError(f"unknown task {name!r}; known: {', '.join(TASK_NAMES)}")
    from ied_workflow.cli.broker import publish  # the one command that talks to the broker

    instant = when(now, "--now")
    takes_now = instant is not None and name != "ied.notify_closed_with_issue"
    kwargs = {"now": instant.isoformat()} if takes_now and instant else {}
    say(f"sent {name} as task {publish(name, kwargs)}")


@notify_app.command("test")
def notify_test(channel: ChannelName = typer.Option(..., "--channel")) -> None:
    """Send a test message through one channel, to check its configuration."""
    wf = workflow()
    now = wf.now()
    message = Message(kind=Kind.TEST, key=f"test-{now:%Y%m%d%H%M%S}", now=now)
    with channel_by_name(wf.settings, channel.value).open() as sender:
        sender.send(message)
    say(f"test message sent on {channel.value}")
