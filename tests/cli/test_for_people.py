"""The command line for people: every field, lookups by lead, local times, sane options."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import typer

from config.settings import get_settings
from ied_workflow.cli.main import app
from tests.support.cli import Cli

OPS = "ops@ied.example"


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IED_OPS_TIMEZONE", "America/New_York")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def closed(cli: Cli) -> str:
    cli("leads", "upsert", "L-102", "--status", "assigned", "--installer", "I-8")
    made = cli("followup", "create", "L-102", "--by", OPS, "--due", "2026-12-01T03:00:00Z",
               "--notes", "check the quote", "--json")  # fmt: skip
    follow_up = str(json.loads(made.out)["id"])
    cli("followup", "contact", follow_up, "--outcome", "reached_customer", "--by", OPS,
        "--at", "2026-11-30T15:00:00Z", "--note", "spoke to her")  # fmt: skip
    cli("followup", "outcome", follow_up, "--by", OPS, "--has-issue", "--issue-summary",
        "scratched panel", "--satisfaction", "mixed")  # fmt: skip
    return follow_up


def test_show_prints_every_contract_field_by_id_or_by_lead(cli: Cli, new_york: None) -> None:
    follow_up = closed(cli)
    by_id, by_lead = cli("followup", "show", follow_up), cli("followup", "show", "--lead", "L-102")
    assert by_id.code == 0 and by_id.out == by_lead.out
    for line in (
        "status:           closed_with_issue",
        "due:              2026-11-30 22:00 EST",
        "last contact:     2026-11-30 10:00 EST by ops@ied.example: reached_customer",
        "satisfaction:     mixed",
        "issue:            yes, open",
        "issue summary:    scratched panel",
        "notes:            check the quote",
        "referral:         no",
    ):
        assert line in by_id.out, line


def test_show_needs_an_id_or_a_lead_and_a_lead_without_one_is_not_found(cli: Cli) -> None:
    assert cli("followup", "show").code == 2
    cli("leads", "upsert", "L-9", "--status", "assigned", "--installer", "I-1")
    assert cli("followup", "show", "--lead", "L-9").err == "error: lead L-9 has no follow-up\n"


def test_history_shows_contact_outcomes_and_notes(cli: Cli, new_york: None) -> None:
    history = cli("followup", "history", closed(cli)).out
    assert "2026-11-30 10:00 EST  contact attempt  reached_customer" in history
    assert "ops@ied.example: spoke to her" in history
    assert "outcome_recorded" in history


def test_list_by_lead_and_due_today_in_the_ops_timezone(cli: Cli, new_york: None) -> None:
    follow_up = closed(cli)
    cli("leads", "upsert", "L-103", "--status", "assigned", "--installer", "I-8")
    cli("followup", "create", "L-103", "--by", OPS, "--due", "2026-12-01T03:00:00Z")
    by_lead = json.loads(cli("followup", "list", "--lead", "L-102", "--json").out)
    assert [row["id"] for row in by_lead] == [int(follow_up)]
    # 20:00 in New York on Nov 30 is Dec 1 in UTC; 22:00 New York time is still today
    table = cli("followup", "list", "--due-today", "--now", "2026-11-30T20:00:00-05:00").out
    assert "1 of 1 follow-ups (times in America/New_York)" in table
    assert "2026-11-30 22:00 EST" in table and "L-103" in table


def test_a_plain_due_date_is_the_end_of_that_day_in_the_ops_timezone(
    cli: Cli, new_york: None
) -> None:
    cli("leads", "upsert", "L-1", "--status", "assigned", "--installer", "I-1")
    made = json.loads(cli("followup", "create", "L-1", "--by", OPS, "--due", "2026-12-01",
                          "--json").out)  # fmt: skip
    assert made["dueAt"] == "2026-12-02T04:59:59+00:00"
    moved = cli("followup", "reschedule", str(made["id"]), "--by", OPS, "--due", "2026-12-24")
    assert "due 2026-12-24 23:59 EST" in moved.out
    assert (
        cli("followup", "reschedule", str(made["id"]), "--by", OPS, "--due", "2026-02-30").code == 2
    )


def test_ied_actor_is_the_default_for_by(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("leads", "upsert", "L-1", "--status", "assigned", "--installer", "I-1")
    refused = cli("followup", "create", "L-1")
    assert (refused.code, refused.err) == (2, "error: say who acts: --by EMAIL, or set IED_ACTOR\n")
    monkeypatch.setenv("IED_ACTOR", "me@ied.example")
    get_settings.cache_clear()
    made = json.loads(cli("followup", "create", "L-1", "--json").out)
    assert made["createdByEmail"] == "me@ied.example"


def test_dashboard_prints_the_counts(cli: Cli) -> None:
    closed(cli)
    shown = cli("dashboard", "--now", "2026-12-02T00:00:00Z")
    assert shown.code == 0 and "closed_with_issue" in shown.out and "open_issue" in shown.out
    counts = json.loads(cli("dashboard", "--json").out)
    assert counts["closedWithIssue"] == 1 and counts["openIssue"] == 1


def test_dispatch_prints_a_human_summary(cli: Cli) -> None:
    assert cli("notifications", "dispatch").out == "nothing to send\n"
    closed(cli)  # a closed-with-issue alert, on the console channel (none configured)
    sent = cli("notifications", "dispatch").out.splitlines()[-1]
    assert sent == "console: 1 alert sent in 1 message"


def test_version_is_printed(cli: Cli) -> None:
    from importlib.metadata import version

    shown = cli("--version")
    assert (shown.code, shown.out) == (0, f"ied-workflow {version('ied-workflow')}\n")


def test_every_option_and_argument_has_help_text() -> None:
    def leaves(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, object]]:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                yield from leaves(child, (*path, name))
        else:
            yield " ".join(path), command

    missing = [
        f"{path} {param.name}"
        for path, command in leaves(typer.main.get_command(app))
        for param in command.params  # type: ignore[attr-defined]
        if not getattr(param, "help", None)
    ]
    assert missing == []
