"""Hostile input: fuzz the CLI (in-process) with random and malicious text.

Inputs (tests/support/hostile.py): control characters, CRLF, 1 MB strings, Unicode (emoji,
RTL, combining marks, lone surrogates, bidi overrides), SQL fragments, Slack mention and
link syntax, HTML, and malformed enums, ids and datetimes.

What each answer must be (the exit codes the CLI documents):
- malformed input (a bad text, enum, email, id or datetime): exit 2;
- a well-formed id of nothing: exit 4;
- a well-formed value a rule refuses (an empty issue summary with --has-issue): exit 3;
- every refusal: exactly one line on stderr, starting "error: ", no traceback, nothing on
  stdout, and no row written (snapshot before and after);
- whatever is accepted comes back byte for byte (`followup show --json`, `history --json`),
  and an accepted issue summary, when rendered for Slack or email, is escaped on the wire:
  no raw `<` in any Slack text (so no `<!channel>`, `<@U..>` or `<url|text>`), no new tag
  or attribute in the HTML part, and no customer text in any email header.

The example budget is fixed and derandomized, so CI runs the same inputs every time.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import typer.main
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine

from ied_workflow.alerts.message import AlertItem
from ied_workflow.domain import FollowUp
from ied_workflow.workflow import Workflow
from tests.support.cli import Cli, Run
from tests.support.data import OPS
from tests.support.database import snapshot
from tests.support.hostile import (
    ANY_TEXT,
    FUZZ,
    HOSTILE_TEXT,
    NOTE_MAX,
    SUMMARY_MAX,
    acceptable,
    assert_escaped_on_the_wire,
    fresh,
    with_megabytes,
)

pytestmark = pytest.mark.postgres


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the click command once per test instead of once per `main()` call.

    Rebuilding it costs about 50 ms: nothing for a one-shot process, but most of the time
    of an in-process fuzz. The command object is the same either way.
    """
    monkeypatch.setattr(typer.main, "get_command", functools.cache(typer.main.get_command))


def run(cli: Cli, *args: str) -> Run:
    """The CLI's answer; an exception escaping `main` is a traceback in a real shell."""
    try:
        return cli(*args)
    except Exception as error:
        pytest.fail(f"uncaught {type(error).__name__} (a traceback, exit 1): {error!r}"[:500])


def assert_refused(result: Run, code: int) -> None:
    assert result.code == code, (result.code, result.err[:300])
    assert result.err.startswith("error: "), result.err[:300]
    assert result.err.endswith("\n") and len(result.err.splitlines()) == 1, result.err[:300]
    assert "Traceback" not in result.err and result.out == ""


def refused_by_cli(cli: Cli, engine: Engine, code: int, *args: str) -> None:
    """The command is refused with `code`, one stderr line, and nothing written."""
    before = snapshot(engine)
    assert_refused(run(cli, *args), code)
    assert snapshot(engine) == before


def shown(cli: Cli, follow_up_id: int) -> dict[str, Any]:
    result = run(cli, "followup", "show", str(follow_up_id), "--json")
    assert result.code == 0, result.err
    return dict(json.loads(result.out))


def history(cli: Cli, follow_up_id: int) -> dict[str, Any]:
    result = run(cli, "followup", "history", str(follow_up_id), "--json")
    assert result.code == 0, result.err
    return dict(json.loads(result.out))


def alert_item(follow_up: FollowUp) -> AlertItem:
    """The alert item the dispatcher builds from a stored follow-up."""
    return AlertItem.of(follow_up)


# --- the CLI ----------------------------------------------------------------------------


@FUZZ
@given(text=ANY_TEXT)
@example(text="<!channel> please call <@U123> back: <https://evil.example|invoice>")
@example(text="line one\r\nBcc: x@evil.example")
@example(text="\ud800")
@with_megabytes("text")
def test_note_text_is_refused_whole_or_kept_byte_for_byte(
    cli: Cli, workflow: Workflow, engine: Engine, text: str
) -> None:
    # Given a fresh follow-up
    follow_up = fresh(workflow)
    args = ("followup", "note", str(follow_up.id), f"--text={text}", "--by", OPS, "--json")
    if not text.strip() or not acceptable(text, NOTE_MAX):
        # Then malformed text is refused as bad input, and nothing is written
        refused_by_cli(cli, engine, 2, *args)
        return
    # When the note is accepted, Then it comes back exactly as given
    result = run(cli, *args)
    assert result.code == 0, result.err[:300]
    assert json.loads(result.out)["notes"] == text
    assert shown(cli, follow_up.id)["notes"].encode() == text.encode()
    assert history(cli, follow_up.id)["events"][-1]["data"]["note"] == text


@FUZZ
@given(summary=ANY_TEXT)
@example(summary="<!channel> <!here> <@U123ABC> <https://evil.example|click> <script>x</script>")
@example(summary="   ")
@example(summary="fine\r\nSubject: win")
@with_megabytes("summary")
def test_issue_summary_is_refused_whole_or_kept_and_escaped_on_the_wire(
    cli: Cli, workflow: Workflow, engine: Engine, summary: str
) -> None:
    # Given a follow-up whose customer was reached
    follow_up = fresh(workflow, reached=True)
    args = (
        *("followup", "outcome", str(follow_up.id), "--by", OPS, "--has-issue"),
        *(f"--issue-summary={summary}", "--satisfaction", "unsatisfied", "--json"),
    )
    if not acceptable(summary, SUMMARY_MAX):
        refused_by_cli(cli, engine, 2, *args)  # malformed text
        return
    if not summary.strip():
        refused_by_cli(cli, engine, 3, *args)  # well-formed, but the rule needs a summary
        return
    # When the outcome is recorded with the summary
    result = run(cli, *args)
    assert result.code == 0, result.err[:300]
    # Then the stored summary is byte-identical, and the alert escapes it on the wire
    stored = shown(cli, follow_up.id)
    assert (stored["status"], stored["issueSummary"]) == ("closed_with_issue", summary)
    item = alert_item(workflow.get(follow_up.id))
    assert_escaped_on_the_wire(item, summary, round_trip=len(summary) < 200)


@FUZZ
@given(value=ANY_TEXT | st.sampled_from(["reached_customer ", "REACHED_CUSTOMER", "", "1"]))
def test_malformed_enums_exit_2(cli: Cli, workflow: Workflow, engine: Engine, value: str) -> None:
    follow_up = fresh(workflow, reached=True)
    fid = str(follow_up.id)
    outcomes = {"attempted", "left_message", "no_response", "reached_customer"}
    if value not in outcomes:
        refused_by_cli(
            cli, engine, 2, "followup", "contact", fid, f"--outcome={value}", "--by", OPS
        )
    if value not in {"satisfied", "mixed", "unsatisfied"}:
        refused_by_cli(
            cli,
            engine,
            2,
            *("followup", "outcome", fid, "--by", OPS, "--no-issue", f"--satisfaction={value}"),
        )
    if value not in {"pending", "in_progress", "completed", "closed_with_issue"}:
        refused_by_cli(cli, engine, 2, "followup", "list", f"--status={value}")


HOSTILE_IDS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        ["0", "-1", "+1", " 1", "1.0", "1e3", "0x10", "1_0", "\uff11", "\u0661", "--", "-"]
    ),
    st.sampled_from([str(2**63 - 1), str(2**63), str(10**30), "9" * 5000]),
    HOSTILE_TEXT,
)


def id_answers(arg: str, existing: set[int]) -> set[int]:
    """The exit codes a follow-up id argument may give.

    Plain decimal digits name an id: 0 if it exists, 4 if not, 2 when out of range.
    Other spellings of a number (" 1", "+1", "1.0", "1_0", fullwidth digits) may be
    refused as malformed (2) or read leniently as that number, never anything else.
    """
    if arg.startswith("-"):
        return {2}  # an option to the parser, or a negative id: bad input either way
    lenient: int | None = None
    for parse in (int, float):
        with contextlib.suppress(ValueError, OverflowError):
            number = parse(arg)
            lenient = int(number) if number == int(number) else None
            break
    if re.fullmatch(r"[0-9]+", arg):
        too_long = len(arg.lstrip("0")) > 19  # past 2**63, and past int()'s digit limit
        return {2} if too_long else {_id_answer(int(arg), existing)}
    return {2} if lenient is None else {2, _id_answer(lenient, existing)}


def _id_answer(number: int, existing: set[int]) -> int:
    if not 0 < number < 2**63:
        return 2
    return 0 if number in existing else 4


@FUZZ
@given(arg=HOSTILE_IDS)
@example(arg=str(2**63))
@example(arg="99999999999999999999")
def test_malformed_and_unknown_ids_exit_2_or_4(
    cli: Cli, workflow: Workflow, engine: Engine, arg: str
) -> None:
    existing = {fresh(workflow).id}
    with engine.connect() as conn:
        existing |= {row[0] for row in conn.exec_driver_sql("SELECT id FROM follow_ups")}
    codes = id_answers(arg, existing)
    for command in (("show", arg), ("history", arg)):
        result = run(cli, "followup", *command, "--json")
        assert result.code in codes, (result.code, codes, result.err[:300])
        if result.code:
            assert_refused(result, result.code)
    if 0 not in codes:
        before = snapshot(engine)
        for args in (("note", arg, "--text=x"), ("start", arg)):
            result = run(cli, "followup", *args, "--by", OPS)
            assert result.code in codes, (result.code, codes, result.err[:300])
            assert_refused(result, result.code)
        assert snapshot(engine) == before


def plain_date(value: str) -> date | None:
    """The day a plain YYYY-MM-DD value names (what `--due` reads as that day's end)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def datetime_answer(value: str) -> datetime | None:
    """The instant an ISO 8601 value with an offset names, or None if it names none."""
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return None
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


DATETIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # naive: refused
    st.sampled_from(
        [
            "2026-13-01T00:00:00Z",
            "2026-02-30T10:00:00+00:00",
            "2026-11-25",
            "2026-11-25T10:00",
            "2026-11-25T10:00:00+25:00",
            "tomorrow",
            "2026-11-25T10:00:00Z'; DROP TABLE follow_ups;--",
            " 2026-11-25T10:00:00Z ",
            "2026-11-25T10:00:00.123456+05:45",
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59+00:00",
        ]
    ),
    HOSTILE_TEXT,
)


@FUZZ
@given(value=DATETIMES)
@example(value="0001-01-01T00:00:00+14:00")  # before year 1 in UTC
@example(value="9999-12-31T23:59:59-14:00")  # after year 9999 in UTC
def test_datetimes_are_refused_or_kept_as_the_same_instant(
    cli: Cli, workflow: Workflow, engine: Engine, value: str
) -> None:
    follow_up = fresh(workflow)
    instant = datetime_answer(value)
    args = ("followup", "reschedule", str(follow_up.id), f"--due={value}", "--by", OPS)
    day = plain_date(value)
    if day is not None:
        # `--due` also takes a plain date, the end of that day (ops timezone, UTC here);
        # `--at` names an instant, so a date alone is refused there
        result = run(cli, *args)
        assert result.code == 0, result.err[:300]
        due = datetime.fromisoformat(shown(cli, follow_up.id)["dueAt"])
        assert due == datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        refused_by_cli(
            cli,
            engine,
            2,
            *("followup", "contact", str(follow_up.id), "--outcome", "attempted"),
            *(f"--at={value}", "--by", OPS),
        )
        return
    if instant is None:
        refused_by_cli(cli, engine, 2, *args)
        refused_by_cli(
            cli,
            engine,
            2,
            *("followup", "contact", str(follow_up.id), "--outcome", "attempted"),
            *(f"--at={value}", "--by", OPS),
        )
        return
    result = run(cli, *args)
    assert result.code == 0, result.err[:300]
    assert datetime.fromisoformat(shown(cli, follow_up.id)["dueAt"]) == instant


@pytest.mark.parametrize(
    "by",
    [
        "ops@ied.example\r\nBcc: x@evil.example",
        "<!channel>@ied.example",
        "ops@ied.example'; DROP TABLE leads;--",
        "\ud800@ied.example",
        "x" * 300 + "@ied.example",
        "ops@ied.example\x00",
        "",
    ],
)
def test_hostile_operator_emails_exit_2(
    cli: Cli, workflow: Workflow, engine: Engine, by: str
) -> None:
    follow_up = fresh(workflow)
    refused_by_cli(cli, engine, 2, "followup", "note", str(follow_up.id), "--text=x", f"--by={by}")
    refused_by_cli(cli, engine, 2, "followup", "create", "L-x", f"--by={by}")


@FUZZ
@given(lead=ANY_TEXT | st.sampled_from(["L-1; DROP TABLE leads", "L-1' OR '1'='1", "x" * 65]))
@example(lead="\udcff")  # what a non-UTF-8 byte in argv becomes
@example(lead="L\x00-1")
@with_megabytes("lead")
def test_hostile_lead_ids_exit_2(cli: Cli, workflow: Workflow, engine: Engine, lead: str) -> None:
    well_formed = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", lead) is not None
    code = 4 if well_formed else 2
    refused_by_cli(cli, engine, code, "followup", "create", lead, "--by", OPS)
    refused_by_cli(cli, engine, code, "leads", "show", lead)
    if not well_formed:
        refused_by_cli(cli, engine, 2, "leads", "upsert", lead, "--status", "assigned")
