"""Rendering rules: what an alert says, in which timezone, and how hostile text is defused.

Hostile text in any field (fuzzed, tests/support/hostile.py) is carried inertly: no raw `<`
in any Slack text, no new tag or attribute in the HTML part, nothing in an email header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ied_workflow.alerts.message import AlertItem, Kind, Message
from ied_workflow.alerts.render import (
    email_message,
    html,
    humanise,
    message_id,
    plain_text,
    slack_payload,
    subject,
)
from tests.support.data import NOW
from tests.support.hostile import FUZZ, HOSTILE_TEXT, assert_escaped_on_the_wire, with_megabytes
from tests.support.messages import texts, visible
from tests.support.slack import without_our_dates

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = "<!channel> call me & <@U123> <https://evil|click>"
HOSTILE_ESCAPED = "&lt;!channel&gt; call me &amp; &lt;@U123&gt; &lt;https://evil|click&gt;"

MakeItem = Callable[..., AlertItem]
MakeMessage = Callable[..., Message]


def slack_text(message: Message) -> str:
    return "\n".join(texts(slack_payload(message, BERLIN)))


def parsed(message: Message) -> Any:
    raw = email_message(message, "alerts@ied.example", ["ops@ied.example"], BERLIN).as_bytes()
    return message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=30), "under 1 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=20), "3 h 20 min"),
        (timedelta(days=1, hours=4), "1 day 4 h"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=2, hours=5), "2 days"),
    ],
)
def test_durations_read_like_a_person_wrote_them(delta: timedelta, expected: str) -> None:
    assert humanise(delta) == expected


def test_overdue_alert_names_everything_operations_needs(make_message: MakeMessage) -> None:
    # Given follow-up #12, due 11:40 UTC, seen at 15:00 UTC, operations in Berlin
    message = make_message()
    expected = [
        "#12",
        "L-100",
        "INST-7",
        "2026-11-25 12:40 CET",
        "3 h 20 min overdue",
        "Contact attempts so far 2",
        "outcome No answer",
    ]
    # When it is rendered for each medium, Then each names id, lead, installer, due, lateness
    for rendering in (slack_text(message), plain_text(message, BERLIN), html(message, BERLIN)):
        for fact in expected:
            assert fact in visible(rendering), (fact, rendering)


def test_days_overdue_and_not_yet_due(
    make_item: MakeItem, make_message: MakeMessage, now: datetime
) -> None:
    late = make_item(1, due_at=now - timedelta(days=2, minutes=5))
    early = make_item(2, due_at=now + timedelta(hours=2))
    text = plain_text(make_message(late, early), BERLIN)
    assert "(2 days overdue)" in text
    assert "(due in 2 h)" in text


def test_naive_datetimes_are_read_as_utc(make_item: MakeItem, make_message: MakeMessage) -> None:
    naive_now = datetime(2026, 11, 25, 15, 0)
    message = make_message(make_item(due_at=datetime(2026, 11, 25, 14, 0)), now=naive_now)
    text = plain_text(message, BERLIN)
    assert "2026-11-25 15:00 CET (1 h overdue)" in text
    assert "Generated 2026-11-25 16:00 CET" in text


def test_closed_with_issue_carries_the_summary(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    message = make_message(
        make_item(status="closed", issue_summary="Panel cracked on delivery"),
        kind=Kind.CLOSED_WITH_ISSUE,
    )
    assert "Panel cracked on delivery" in plain_text(message, BERLIN)
    assert "Panel cracked on delivery" in html(message, BERLIN)
    assert "> Panel cracked on delivery" in slack_text(message)
    assert subject(message) == "[ied-workflow] Follow-up #12 was closed with an issue"


def test_digest_shows_its_counts(make_message: MakeMessage) -> None:
    counts = {"due_today": 3, "overdue": 5, "in_progress": 2, "open_issues": 1}
    message = Message(
        Kind.DIGEST, "digest:2026-11-25", datetime(2026, 11, 25, 7, tzinfo=UTC), counts=counts
    )
    for rendering in (plain_text(message, BERLIN), slack_text(message)):
        for label, value in [
            ("Due today", 3),
            ("Overdue", 5),
            ("In progress", 2),
            ("Open issues", 1),
        ]:
            assert re.search(rf"{label}:\**\s*{value}\b", rendering), (label, rendering)
    assert subject(message) == (
        "[ied-workflow] Daily follow-up digest: "
        "3 due today, 5 overdue, 2 in progress, 1 open issues"
    )


def test_slack_text_cannot_ping_or_link(make_item: MakeItem, make_message: MakeMessage) -> None:
    # Given customer text (and odd ids) written to ping everyone and hide a link
    hostile = make_item(issue_summary=HOSTILE, lead_id="<!here>", last_contact_outcome="<@U1>")
    # When it is rendered for Slack
    payload = slack_payload(make_message(hostile, kind=Kind.CLOSED_WITH_ISSUE), BERLIN)
    # Then it arrives as inert, escaped text, and no field holds a raw '<'
    assert HOSTILE_ESCAPED in "\n".join(texts(payload))
    assert "&lt;!here&gt;" in "\n".join(texts(payload))
    lines = [without_our_dates(line) for text in texts(payload) for line in text.splitlines()]
    assert not [line for line in lines if "<" in line or ">" in line.removeprefix("> ")]


def test_html_part_escapes_markup(make_item: MakeItem, make_message: MakeMessage) -> None:
    message = make_message(
        make_item(issue_summary="<script>alert(1)</script>"), kind=Kind.CLOSED_WITH_ISSUE
    )
    body = parsed(message).get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>" not in body


def test_customer_newlines_stay_inside_their_quote(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    # Given a summary that tries to forge a second follow-up and a header
    summary = "fine\r\nFollow-up #999\rBcc: x@evil\u2028\x1b[31mred"
    message = make_message(make_item(issue_summary=summary), kind=Kind.CLOSED_WITH_ISSUE)
    text = plain_text(message, BERLIN)
    # Then its lines are kept but each stays indented under the summary, control codes gone
    assert "    | fine\n    | Follow-up #999\n    | Bcc: x@evil\n    | [31mred\n" in text
    assert not re.search(r"^(Follow-up #999|Bcc:)", text, re.MULTILINE)
    assert "\x1b" not in text and "\r" not in text
    slack_lines = slack_text(message).splitlines()
    assert "> Follow-up #999" in slack_lines and "> Bcc: x@evil" in slack_lines


def test_customer_text_never_reaches_a_header(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    message = make_message(
        make_item(issue_summary="Urgent!\r\nBcc: x@evil\r\nSubject: win"),
        kind=Kind.CLOSED_WITH_ISSUE,
    )
    received = parsed(message)
    assert sorted(received.keys()) == sorted(
        [
            "Subject",
            "From",
            "To",
            "Date",
            "Message-ID",
            "Auto-Submitted",
            "MIME-Version",
            "Content-Type",
        ]
    )
    assert received["Subject"] == "[ied-workflow] Follow-up #12 was closed with an issue"
    assert all(
        "evil" not in str(value) and "Urgent" not in str(value) for value in received.values()
    )


def test_addresses_with_line_breaks_are_refused(make_message: MakeMessage) -> None:
    with pytest.raises(ValueError):
        email_message(make_message(), "alerts@ied.example\r\nBcc: x@evil", ["ops@ied.example"])


def test_date_header_is_the_message_time(make_message: MakeMessage) -> None:
    assert parsed(make_message())["Date"].datetime == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def test_message_id_is_stable_header_safe_and_distinct() -> None:
    assert message_id("batch-42") == "<batch-42@ied-workflow>"
    assert message_id("overdue:12:0") == message_id("overdue:12:0")
    assert message_id("a:b") != message_id("a-b")
    for key in ("overdue:12:0", "x\r\nBcc: x@evil", "é" * 500, ""):
        assert re.fullmatch(r"<[A-Za-z0-9._+=-]+@ied-workflow>", message_id(key)), key


def test_ten_thousand_items_make_one_bounded_slack_message(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    # Given a scan that found 10,000 overdue follow-ups
    message = make_message(*(make_item(i, issue_summary="x" * 500) for i in range(10_000)))
    # When it is rendered for Slack
    payload = slack_payload(message, BERLIN)
    # Then it is one message, within Slack's limits, saying how many were left out
    assert all(len(text) <= 3000 for text in texts(payload))
    assert len(payload["blocks"]) <= 50
    assert "and 9980 more" in "\n".join(texts(payload))
    assert payload["text"] == "10000 follow-ups are overdue"


def test_ten_thousand_items_make_one_email(make_item: MakeItem, make_message: MakeMessage) -> None:
    message = make_message(*(make_item(i) for i in range(10_000)))
    email = email_message(message, "alerts@ied.example", ["ops@ied.example"], BERLIN)
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    assert "... and 9800 more" in body.get_content()
    assert email["Subject"] == "[ied-workflow] 10000 follow-ups are overdue"


def test_long_escaped_summary_is_clipped_without_breaking_an_entity(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    message = make_message(make_item(issue_summary="&<" * 3000), kind=Kind.CLOSED_WITH_ISSUE)
    for text in texts(slack_payload(message, BERLIN)):
        assert len(text) <= 3000
        assert not re.search(r"&(?!amp;|lt;|gt;)", text)


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
