"""`ied-workflow notify ...`: check that a notification channel delivers."""

from __future__ import annotations

from enum import StrEnum

import typer

from ied_workflow.alerts.channels import channel_by_name
from ied_workflow.alerts.message import Kind, Message
from ied_workflow.cli.common import workflow
from ied_workflow.cli.output import say

app = typer.Typer(help="Check a notification channel.", no_args_is_help=True)


class ChannelName(StrEnum):
    SLACK = "slack"
    EMAIL = "email"
    CONSOLE = "console"


@app.command("test")
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
