"""Commands for developers and operators of the background side: scan, outbox, tasks."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from config.settings import get_settings
from ied_workflow.alerts import deliveries
from ied_workflow.alerts.channels import channel_by_name
from ied_workflow.alerts.dispatch import DispatchResult
from ied_workflow.alerts.message import Kind, Message
from ied_workflow.cli.common import JSON, NOW, when, workflow
from ied_workflow.cli.output import console, counts_table, emit_json, say
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


def dashboard(now: str | None = NOW, as_json: bool = JSON) -> None:
    """The dashboard's counts: due today, overdue, by status, issues."""
    wf = workflow()
    counts = wf.dashboard(when(now, "--now"))
    if as_json:
        emit_json(counts)
    else:
        console.print(counts_table(counts, title=f"follow-ups (today in {wf.settings.zone.key})"))


@notifications_app.command("list")
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


@notifications_app.command("retry")
def retry(
    notification_id: int = typer.Argument(
        ..., help="The notification's id (see `notifications list`).", show_default=False
    ),
    now: str | None = NOW,
) -> None:
    """Put a failed notification back in line for delivery (due at once, or at --now)."""
    workflow().retry_notification(notification_id, now=when(now, "--now"))
    say(f"notification {notification_id} is pending again")


@tasks_app.command("send")
def send_task(
    name: str = typer.Argument(..., help=f"One of {', '.join(TASK_NAMES)}.", show_default=False),
    now: str | None = NOW,
) -> None:
    """Enqueue a task by its name through the Redis broker (a worker runs it)."""
    if name not in TASK_NAMES:
        raise ValidationError(f"unknown task {name!r}; known: {', '.join(TASK_NAMES)}")
    get_settings()  # a bad setting is reported before anything reaches the broker
    from ied_workflow.cli.broker import publish  # the one command that talks to the broker

    instant = when(now, "--now")
    takes_now = instant is not None and name != "ied.notify_closed_with_issue"
    kwargs = {"now": instant.isoformat()} if takes_now and instant else {}
    say(f"sent {name} as task {publish(name, kwargs)}")


@notify_app.command("test")
def notify_test(
    channel: ChannelName = typer.Option(..., "--channel", help="The channel to check."),
) -> None:
    """Send a test message through one channel, to check its configuration."""
    wf = workflow()
    now = wf.now()
    message = Message(kind=Kind.TEST, key=f"test-{now:%Y%m%d%H%M%S}", now=now)
    with channel_by_name(wf.settings, channel.value).open() as sender:
        sender.send(message)
    say(f"test message sent on {channel.value}")
