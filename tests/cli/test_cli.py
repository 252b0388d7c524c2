"""The command line: exact commands of the issue, JSON names, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from ied_workflow.states import TRANSITIONS
from tests.support.cli import Cli
from tests.support.database import snapshot

BY = ("--by", "ops@ied.example")


def seeded(cli: Cli) -> int:
    assert cli("leads", "upsert", "L-1", "--status", "assigned", "--installer", "I-7").code == 0
    created = cli(
        "followup",
        "create",
        "L-1",
        *BY,
        "--due",
        "2026-12-01T09:00:00+01:00",
        "--notes",
        "check quote",
        "--json",
    )
    assert created.code == 0, created.err
    return int(json.loads(created.out)["id"])


def test_full_life_through_the_cli_prints_contract_names(cli: Cli) -> None:
    follow_up_id = str(seeded(cli))
    shown = json.loads(cli("followup", "show", follow_up_id, "--json").out)
    assert shown["leadId"] == "L-1" and shown["installerId"] == "I-7"
    assert shown["dueAt"] == "2026-12-01T08:00:00+00:00"
    for name in (
        "contactAttemptCount",
        "lastContactedAt",
        "lastContactedByEmail",
        "lastContactOutcome",
        "satisfactionOutcome",
        "hasIssue",
        "issueSummary",
        "issueResolved",
        "referralOpportunity",
        "createdByEmail",
        "startedAt",
    ):
        assert name in shown
    assert cli("followup", "start", follow_up_id, *BY).code == 0
    contact = cli(
        "followup",
        "contact",
        follow_up_id,
        "--outcome",
        "reached_customer",
        *BY,
        "--at",
        "2026-11-25T10:00:00Z",
        "--note",
        "spoke to her",
        "--json",
    )
    assert json.loads(contact.out)["lastContactOutcome"] == "reached_customer"
    done = cli(
        "followup",
        "outcome",
        follow_up_id,
        *BY,
        "--no-issue",
        "--satisfaction",
        "satisfied",
        "--referral",
        "--json",
    )
    assert json.loads(done.out)["status"] == "completed"
    assert json.loads(done.out)["referralOpportunity"] is True
    history = json.loads(cli("followup", "history", follow_up_id, "--json").out)
    assert [e["type"] for e in history["events"]] == [
        "created",
        "started",
        "contact_logged",
        "outcome_recorded",
    ]
    assert history["contactAttempts"][0]["note"] == "spoke to her"
    listed = json.loads(cli("followup", "list", "--status", "completed", "--json").out)
    assert [f["id"] for f in listed] == [int(follow_up_id)]
    lead = json.loads(cli("leads", "show", "L-1", "--json").out)
    assert lead == {
        "id": "L-1",
        "status": "assigned",
        "installerId": "I-7",
        "updatedAt": lead["updatedAt"],
    }


def test_closed_with_issue_resolve_and_reschedule_commands(cli: Cli) -> None:
    follow_up_id = str(seeded(cli))
    assert (
        cli("followup", "reschedule", follow_up_id, "--due", "2026-12-24T12:00:00-05:00", *BY).code
        == 0
    )
    cli("followup", "contact", follow_up_id, "--outcome", "reached_customer", *BY)
    closed = cli(
        "followup",
        "outcome",
        follow_up_id,
        *BY,
        "--has-issue",
        "--issue-summary",
        "water in the attic",
        "--json",
    )
    assert json.loads(closed.out)["status"] == "closed_with_issue"
    resolved = cli("followup", "resolve-issue", follow_up_id, *BY, "--json")
    assert json.loads(resolved.out)["issueResolved"] is True
    table = cli("followup", "list", "--has-issue")
    assert table.code == 0 and "closed_with_issue" in table.out


BAD_INPUT = [
    ("unknown contact outcome", ["followup", "contact", "1", "--outcome", "waved", *BY]),
    ("malformed email", ["followup", "start", "1", "--by", "ops-at-ied"]),
    ("naive due datetime", ["followup", "reschedule", "1", "--due", "2026-12-01T09:00", *BY]),
    ("malformed datetime", ["followup", "reschedule", "1", "--due", "next tuesday", *BY]),
    (
        "unknown satisfaction",
        ["followup", "outcome", "1", *BY, "--no-issue", "--satisfaction", "ecstatic"],
    ),
    ("neither has-issue nor no-issue", ["followup", "outcome", "1", *BY]),
    ("non-numeric id", ["followup", "show", "one"]),
    ("zero id", ["followup", "start", "0", *BY]),
    ("huge id", ["followup", "start", str(2**70), *BY]),
    ("unknown status filter", ["followup", "list", "--status", "escalated"]),
    ("control character in note", ["followup", "note", "1", "--text", "a\x1bb", *BY]),
    ("bad lead id", ["leads", "upsert", "L 1; DROP TABLE leads", "--status", "assigned"]),
    ("missing --by", ["followup", "start", "1"]),
]


@pytest.mark.parametrize(("why", "args"), BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, engine: Engine, why: str, args: list[str]
) -> None:
    seeded(cli)
    before = snapshot(engine)
    result = cli(*args)
    assert result.code == 2, (why, result.err)
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert "Traceback" not in result.err + result.out
    assert snapshot(engine) == before


REFUSED = [
    (
        "empty issue summary with --has-issue",
        ["followup", "outcome", "1", *BY, "--has-issue", "--issue-summary", ""],
    ),
    (
        "complete without reaching the customer",
        ["followup", "outcome", "1", *BY, "--no-issue", "--satisfaction", "satisfied"],
    ),
    ("resolve an issue on a pending follow-up", ["followup", "resolve-issue", "1", *BY]),
    ("second follow-up for the lead", ["followup", "create", "L-1", *BY]),
]


@pytest.mark.parametrize(("why", "args"), REFUSED, ids=[case[0] for case in REFUSED])
def test_rule_refusals_exit_3_and_write_nothing(
    cli: Cli, engine: Engine, why: str, args: list[str]
) -> None:
    seeded(cli)
    cli("followup", "contact", "1", "--outcome", "no_response", *BY)
    before = snapshot(engine)
    result = cli(*args)
    assert result.code == 3, (why, result.err)
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    "args",
    [
        ["followup", "show", "42"],
        ["followup", "start", "42", *BY],
        ["leads", "show", "L-404"],
        ["followup", "create", "L-404", *BY],
        ["followup", "history", "42"],
    ],
)
def test_unknown_ids_exit_4(cli: Cli, args: list[str]) -> None:
    seeded(cli)
    result = cli(*args)
    assert result.code == 4 and "not found" in result.err and result.err.count("\n") == 1


def test_diagram_is_drawn_from_the_machine(cli: Cli) -> None:
    result = cli("diagram")
    assert result.code == 0 and result.out.startswith("---")
    for transition in TRANSITIONS:
        assert transition["trigger"] in result.out
    assert "to_completed" not in result.out
