"""Hostile input: fuzz the CLI (in-process) and the service with random and malicious text.

Inputs: control characters, CRLF, 1 MB strings, Unicode (emoji, RTL, combining marks,
lone surrogates, bidi overrides), SQL fragments, Slack mention and link syntax, HTML, and
malformed enums, ids and datetimes.

What each answer must be (the exit codes the CLI documents):
- malformed input (a bad text, enum, email, id or datetime): exit 2 / ValidationError;
- a well-formed id of nothing: exit 4 / NotFound;
- a well-formed value a rule refuses (an empty issue summary with --has-issue): exit 3;
- every refusal: exactly one line on stderr, starting "error: ", no traceback, nothing on
  stdout, and no row written (snapshot before and after);
- whatever is accepted comes back byte for byte (`followup show --json`, `history --json`,
  `Workflow.get`), and when rendered for Slack or email it is escaped on the wire: no raw
  `<` in any Slack text (so no `<!channel>`, `<@U..>` or `<url|text>`), no new tag or
  attribute in the HTML part, and no customer text in any email header.

The example budget is fixed and derandomized, so CI runs the same inputs every time.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, example, given
from hypothesis import settings as budget
from hypothesis import strategies as st
from sqlalchemy import Engine

from ied_workflow.alerts.message import AlertItem, Kind, Message
from ied_workflow.alerts.render import clean, email_message, slack_payload
from ied_workflow.domain import FollowUp, Outcome, Satisfaction
from ied_workflow.errors import IedWorkflowError, NotFound, ValidationError
from ied_workflow.workflow import Workflow
from tests.support.cli import Cli, Run
from tests.support.data import NOW, OPS
from tests.support.database import snapshot
from tests.support.slack import without_our_dates

pytestmark = pytest.mark.postgres

FUZZ = budget(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    report_multiple_bugs=False,  # one bug, shrunk quickly, keeps a failing run short
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one database per test; each example adds rows
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
NOTE_MAX, SUMMARY_MAX = 4000, 2000
MEGABYTE = 2**20
HEADERS = ("Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted")

HOSTILE_PIECES = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123ABC>",
    "<#C123|general>",
    "<https://evil.example/login|click here>",
    "<mailto:x@evil.example|ops>",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<a href='javascript:alert(1)'>x</a>",
    "</blockquote></body>",
    "'; DROP TABLE follow_ups; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "Robert'); DELETE FROM leads;--",
    "\r\n",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u202e",  # right-to-left override
    "\u2066",
    "\ufeff",
    "\u200b",
    "e\u0301\u0301\u0301",  # combining marks
    "😀",
    "👩‍👩‍👧‍👦",
    "🇫🇷",
    "שלום",
    "مرحبا بالعالم",
    "\ud800",  # lone surrogates
    "\udfff",
    "Subject: win\r\nBcc: x@evil.example",
    "%s%n%x",
    "{{ 7*7 }}",
    "{% raw %}",
    "${jndi:ldap://evil.example/a}",
    "&amp;&lt;&gt;&",
    "*bold* _it_ ~s~ `code` >quote",
    "   ",
    "@channel @here",
]
HOSTILE_TEXT = st.lists(
    st.sampled_from(HOSTILE_PIECES) | st.text(max_size=6), min_size=1, max_size=8
).map("".join)
MEGABYTE_EXAMPLES = [
    (piece * (MEGABYTE // len(piece) + 1))[:MEGABYTE]
    for piece in ("<!channel> <@U1> é\r\n", "😀<script>\x00")
]
# 1 MB strings come as explicit examples (see `MEGABYTE_EXAMPLES`): shrinking them is slow.
ANY_TEXT = st.one_of(HOSTILE_TEXT, HOSTILE_TEXT, st.text(max_size=40))


def forbidden(char: str) -> bool:
    """The documented rule: printable characters, newlines and tabs only."""
    return char not in "\n\t" and unicodedata.category(char) in ("Cc", "Cs")


def acceptable(text: str, limit: int) -> bool:
    return len(text) <= limit and not any(forbidden(c) for c in text)


# Printable hostile text: what validation must accept (markup, SQL, mentions, Unicode).
PRINTABLE_TEXT = st.lists(
    st.sampled_from([p for p in HOSTILE_PIECES if acceptable(p, 100)])
    | st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=6),
    min_size=1,
    max_size=8,
).map("".join)


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the click command once per test instead of once per `main()` call.

    Rebuilding it costs about 50 ms: nothing for a one-shot process, but most of the time
    of an in-process fuzz. The command object is the same either way.
    """
    monkeypatch.setattr(typer.main, "get_command", functools.cache(typer.main.get_command))


def with_megabytes(name: str, **others: Any) -> Callable[[Any], Any]:
    """Run the test on each 1 MB string too, as argument `name` (explicit examples)."""

    def apply(test: Any) -> Any:
        for text in MEGABYTE_EXAMPLES:
            test = example(**{name: text}, **others)(test)
        return test

    return apply


_leads = itertools.count()


def fresh(workflow: Workflow, *, reached: bool = False) -> FollowUp:
    """A new pending follow-up (of a new lead), or one that has reached the customer."""
    lead = f"H-{next(_leads)}"
    workflow.upsert_lead(lead, status="assigned", installer_id="I-1")
    follow_up = workflow.create(lead, by=OPS, now=NOW)
    if reached:
        follow_up = workflow.log_contact(follow_up.id, by=OPS, outcome="reached_customer", now=NOW)
    return follow_up


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


# --- the service --------------------------------------------------------------------------


@FUZZ
@given(text=ANY_TEXT)
@example(text="\ud800")
@example(text="<!channel>\u202e")
@with_megabytes("text")
def test_service_refuses_hostile_text_with_a_typed_error_or_keeps_it(
    workflow: Workflow, engine: Engine, text: str
) -> None:
    # Given a fresh follow-up, When hostile text is given as a note and as a contact note
    follow_up = fresh(workflow)
    note_ok = bool(text.strip()) and acceptable(text, NOTE_MAX)
    kept = attempt(engine, note_ok, lambda: workflow.add_note(follow_up.id, text=text, by=OPS))
    # Then it is refused whole with a ValidationError, or kept byte for byte
    if kept:
        assert workflow.get(follow_up.id).notes == text
    contact_ok = acceptable(text, NOTE_MAX)
    kept = attempt(
        engine,
        contact_ok,
        lambda: workflow.log_contact(follow_up.id, by=OPS, outcome="attempted", note=text),
    )
    if kept:
        assert workflow.history(follow_up.id)[1][-1].note == (text or None)


def attempt(engine: Engine, ok: bool, action: Callable[[], FollowUp]) -> bool:
    """Run `action`: accepted when `ok`, else a one-line ValidationError and nothing written."""
    before = snapshot(engine)
    try:
        action()
    except ValidationError as error:
        assert not ok, f"refused acceptable text: {error}"
        assert len(str(error).splitlines()) == 1
        assert snapshot(engine) == before
        return False
    assert ok, "accepted malformed text"
    return True


@FUZZ
@given(summary=PRINTABLE_TEXT, notes=PRINTABLE_TEXT)
def test_service_keeps_printable_hostile_outcomes_byte_for_byte(
    workflow: Workflow, summary: str, notes: str
) -> None:
    follow_up = fresh(workflow, reached=True)
    outcome = Outcome(
        has_issue=True,
        issue_summary=summary,
        satisfaction=Satisfaction.MIXED,
        notes=notes,
    )
    if not summary.strip():
        with pytest.raises(IedWorkflowError):
            workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome)
        return
    closed = workflow.record_outcome(follow_up.id, by=OPS, outcome=outcome)
    stored = workflow.get(closed.id)
    kept_notes = notes or None  # an empty optional text means "no notes" (design notes)
    assert (stored.issue_summary, stored.notes) == (summary, kept_notes)
    event = workflow.history(closed.id)[0][-1]
    assert (event.data["issueSummary"], event.data["notes"]) == (summary, kept_notes)


@FUZZ
@given(
    follow_up_id=st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([2**63, 10**30, -(2**63) - 1]),
        st.sampled_from(["1", "abc", 1.5, None, b"1", True]),
    )
)
@example(follow_up_id=2**63)
@example(follow_up_id="abc")
def test_service_reads_refuse_malformed_ids_with_typed_errors(
    workflow: Workflow, follow_up_id: Any
) -> None:
    # The Python API promises typed errors; a read must not leak a driver error.
    for read in (workflow.get, workflow.history):
        with contextlib.suppress(ValidationError, NotFound):
            read(follow_up_id)


@FUZZ
@given(lead=ANY_TEXT)
@example(lead="\udcff")
@example(lead="L\x00-1")
def test_service_lead_lookup_refuses_malformed_ids_with_typed_errors(
    workflow: Workflow, lead: str
) -> None:
    with contextlib.suppress(ValidationError, NotFound):
        workflow.lead(lead)


# --- rendering ----------------------------------------------------------------------------


def alert_item(follow_up: FollowUp) -> AlertItem:
    """The alert item the dispatcher builds from a stored follow-up."""
    return AlertItem.of(follow_up)


def texts(value: Any) -> Iterator[str]:
    """Every string under a "text" key of a Slack payload."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                yield inner
            else:
                yield from texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from texts(inner)


class Tags(HTMLParser):
    """The tags and attributes of an HTML document, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, tuple(attrs)))


def tags(html: str) -> list[tuple[str, tuple[tuple[str, str | None], ...]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def on_the_wire(message: Message) -> EmailMessage:
    email = email_message(message, "ied-workflow@ied.example", ["ops@ied.example"])
    parsed = message_from_bytes(email.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def html_part(email: EmailMessage) -> str:
    part = email.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def assert_escaped_on_the_wire(item: AlertItem, customer_text: str, round_trip: bool) -> None:
    """Slack and email carry `customer_text` inertly, in the body only.

    With `round_trip` (the item is short enough not to be clipped), the first line of the
    customer text is also readable in Slack once unescaped.
    """
    message = Message(
        kind=Kind.CLOSED_WITH_ISSUE, key="closed_with_issue:1", now=NOW, items=(item,)
    )
    benign = Message(
        kind=Kind.CLOSED_WITH_ISSUE,
        key="closed_with_issue:1",
        now=NOW,
        items=(
            AlertItem(
                follow_up_id=item.follow_up_id,
                lead_id="L-1",
                installer_id="I-1",
                status="closed_with_issue",
                due_at=item.due_at,
                contact_attempt_count=item.contact_attempt_count,
                last_contact_outcome="reached_customer",
                issue_summary="benign" if clean(item.issue_summary or "").strip("\n") else None,
            ),
        ),
    )
    # Slack: no raw '<' but our date tokens, '>' only as our quote marker, every '&' an
    # entity we wrote.
    payload = slack_payload(message)
    lines = [without_our_dates(line) for text in texts(payload) for line in text.splitlines()]
    assert not [line for line in lines if "<" in line or ">" in line.removeprefix("> ")]
    assert not [line for line in lines if re.search(r"&(?!amp;|lt;|gt;)", line)]
    shown_summary = "\n".join(lines).replace("&lt;", "<").replace("&gt;", ">")
    shown_summary = shown_summary.replace("&amp;", "&")
    first = clean(customer_text).strip("\n").split("\n")[0]
    if round_trip and first.strip():
        assert first in shown_summary
    # Email: the headers are those of a benign alert, the HTML has no new tag or attribute.
    email, plain = on_the_wire(message), on_the_wire(benign)
    assert [(h, str(email[h])) for h in HEADERS] == [(h, str(plain[h])) for h in HEADERS]
    assert sorted(email.keys()) == sorted(plain.keys())
    body = html_part(email)
    assert tags(body) == tags(html_part(plain))
    assert "<script" not in body.lower()


ITEM_TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=30)).map(
    lambda text: "".join(c for c in text if unicodedata.category(c) != "Cs")
)


@FUZZ
@given(summary=ITEM_TEXT, lead=ITEM_TEXT, installer=ITEM_TEXT, outcome=ITEM_TEXT)
@example(
    summary="<!channel> <@U1> <https://evil.example|x> <script>alert(1)</script>",
    lead="<!here>",
    installer="Subject: x\r\nBcc: y@evil.example",
    outcome="<@U2>",
)
@with_megabytes("summary", lead="L-1", installer="I-1", outcome="reached_customer")
def test_renderers_escape_any_text_in_any_field(
    summary: str, lead: str, installer: str, outcome: str
) -> None:
    # Given an alert whose every free-text field is hostile (as if the database held it)
    item = AlertItem(
        follow_up_id=7,
        lead_id=lead,
        installer_id=installer,
        status="closed_with_issue",
        due_at=NOW - timedelta(days=2),
        contact_attempt_count=3,
        last_contact_outcome=outcome,
        issue_summary=summary,
    )
    # Then Slack and email carry it inertly
    short = all(len(text) < 200 for text in (summary, lead, installer, outcome))
    assert_escaped_on_the_wire(item, summary, round_trip=short)
