"""How the CLI prints: JSON with camelCase names, or rich tables for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ied_workflow.domain import FollowUp
from ied_workflow.serialize import to_json

console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:
    console.width = 120  # piped output (logs, CI): wide enough for the follow-up table


def emit_json(value: Any) -> None:
    """One JSON document on stdout."""
    print(json.dumps(to_json(value), indent=2))


def say(message: str) -> None:
    """A line for people; markup off so customer text is printed as is."""
    console.print(Text(message))


def follow_up_line(follow_up: FollowUp) -> str:
    due = follow_up.due_at.isoformat(timespec="minutes")
    return (
        f"follow-up {follow_up.id} (lead {follow_up.lead_id}, installer {follow_up.installer_id}):"
        f" {follow_up.status}, due {due}, {follow_up.contact_attempt_count} contact attempt(s)"
    )


def show_follow_up(follow_up: FollowUp, as_json: bool) -> None:
    if as_json:
        emit_json(follow_up)
    else:
        say(follow_up_line(follow_up))


def follow_up_table(rows: Sequence[FollowUp], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for header in ("id", "lead", "installer", "status", "due", "tries", "last contact", "issue"):
        table.add_column(header, no_wrap=header in ("status", "due"))
    for row in rows:
        issue = "-" if not row.has_issue else ("resolved" if row.issue_resolved else "open")
        table.add_row(
            str(row.id),
            Text(row.lead_id),
            Text(row.installer_id or "-"),
            row.status,
            row.due_at.strftime("%Y-%m-%d %H:%M"),
            str(row.contact_attempt_count),
            row.last_contact_outcome or "-",
            issue,
        )
    return table


def counts_table(counts: dict[str, int], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("filter")
    table.add_column("follow-ups", justify="right")
    for name, value in counts.items():
        table.add_row(name, str(value))
    return table
