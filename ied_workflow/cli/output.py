"""How the CLI prints: JSON with camelCase names, or rich tables for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ied_workflow.domain import ContactAttempt, Event, FollowUp
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


def local(moment: datetime | None, zone: tzinfo) -> str:
    """A time for people: in the operations timezone, with the zone named."""
    if moment is None:
        return "-"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def follow_up_line(follow_up: FollowUp, zone: tzinfo | None = None) -> str:
    due = local(follow_up.due_at, zone) if zone else follow_up.due_at.isoformat(timespec="minutes")
    return (
        f"follow-up {follow_up.id} (lead {follow_up.lead_id}, installer {follow_up.installer_id}):"
        f" {follow_up.status}, due {due}, {follow_up.contact_attempt_count} contact attempt(s)"
    )


def show_follow_up(follow_up: FollowUp, as_json: bool, zone: tzinfo | None = None) -> None:
    if as_json:
        emit_json(follow_up)
    else:
        say(follow_up_line(follow_up, zone))


def follow_up_details(f: FollowUp, zone: tzinfo) -> list[tuple[str, str]]:
    """Every contract field of a follow-up, as label and value, times in `zone`."""
    issue = "no" if f.has_issue is False else "not recorded" if f.has_issue is None else "yes"
    if f.has_issue:
        issue += ", resolved" if f.issue_resolved else ", open"
    last_contact = "-"
    if f.last_contacted_at is not None:
        last_contact = (
            f"{local(f.last_contacted_at, zone)} by {f.last_contacted_by_email}:"
            f" {f.last_contact_outcome}"
        )
    return [
        ("follow-up", str(f.id)),
        ("lead", f.lead_id),
        ("installer", f.installer_id or "-"),
        ("status", f.status),
        ("due", local(f.due_at, zone)),
        ("created", f"{local(f.created_at, zone)} by {f.created_by_email}"),
        ("started", local(f.started_at, zone)),
        ("completed", local(f.completed_at, zone)),
        ("contact attempts", str(f.contact_attempt_count)),
        ("last contact", last_contact),
        ("reached customer", "yes" if f.reached_customer else "no"),
        ("satisfaction", f.satisfaction_outcome or "-"),
        ("issue", issue),
        ("issue summary", f.issue_summary or "-"),
        ("referral", "yes" if f.referral_opportunity else "no"),
        ("notes", f.notes or "-"),
        ("updated", f"{local(f.updated_at, zone)} (version {f.version})"),
    ]


def print_details(rows: list[tuple[str, str]]) -> None:
    """Label and value per line; customer text printed as is (no markup)."""
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        say(f"{label + ':':<{width + 1}} {value}")


def history_lines(
    events: Sequence[Event], attempts: Sequence[ContactAttempt], zone: tzinfo
) -> list[str]:
    """The audit trail and the contact attempts, in time order, for people."""
    lines: list[tuple[datetime, int, str]] = []
    for event in events:
        move = f"{event.from_status or '-'} -> {event.to_status or '-'}"
        lines.append((event.at, 0, f"{event.type:<16} {move:<28} {event.actor_email}"))
    for attempt in attempts:
        note = f": {attempt.note}" if attempt.note else ""
        text = f"{'contact attempt':<16} {attempt.outcome:<28} {attempt.by_email}{note}"
        lines.append((attempt.at, 1, text))
    return [f"{local(at, zone)}  {text}" for at, _, text in sorted(lines, key=lambda r: r[:2])]


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table for people; every cell is plain text, never rich markup."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


def follow_up_table(rows: Sequence[FollowUp], title: str, zone: tzinfo) -> Table:
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
            local(row.due_at, zone),
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
