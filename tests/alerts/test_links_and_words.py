"""Alerts people can act on: buttons and links to the console, Slack dates, human words."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ied_workflow.alerts.channels import channels_from_settings
from ied_workflow.alerts.message import AlertItem, Kind, Message
from ied_workflow.alerts.render import email_message, html, humanise, plain_text, slack_payload
from ied_workflow.labels import due_timing
from tests.support.data import NOW
from tests.support.messages import texts, visible
from tests.support.settings import build_settings
from tests.support.slack import FakeSlack

BERLIN = ZoneInfo("Europe/Berlin")
BASE = "https://ops.ied.example"
MakeItem = Callable[..., AlertItem]
MakeMessage = Callable[..., Message]


def blocks_of(payload: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in payload["blocks"] if block["type"] == kind]


def buttons(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, url) of every button: the message's actions and the items' accessories."""
    found = []
    for block in payload["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else []
        accessory = [block["accessory"]] if "accessory" in block else []
        for element in [*elements, *accessory]:
            found.append((element["text"]["text"], element["url"]))
    return found


def every_rendering(message: Message, base_url: str | None = BASE) -> list[str]:
    payload = slack_payload(message, BERLIN, base_url=base_url)
    return [
        "\n".join(texts(payload)),
        plain_text(message, BERLIN, base_url=base_url),
        html(message, BERLIN, base_url=base_url),
    ]


def test_one_overdue_follow_up_has_an_open_follow_up_button(make_message: MakeMessage) -> None:
    # Given follow-up #12 overdue and IED_BASE_URL set
    payload = slack_payload(make_message(), BERLIN, base_url=BASE)
    # Then Slack shows one button, `Open follow-up`, leading to its page
    assert buttons(payload) == [("Open follow-up", f"{BASE}/follow-ups/12")]
    assert blocks_of(payload, "actions")[0]["elements"][0]["style"] == "primary"


def test_email_carries_the_same_link_as_a_call_to_action(make_message: MakeMessage) -> None:
    raw = email_message(make_message(), "a@ied.example", ["ops@ied.example"], BERLIN,
                        base_url=BASE).as_bytes()  # fmt: skip
    email = message_from_bytes(raw, policy=policy.default)
    text = email.get_body(("plain",)).get_content()
    page = email.get_body(("html",)).get_content()
    assert f"Open follow-up #12: {BASE}/follow-ups/12" in text
    assert re.search(rf'<a href="{BASE}/follow-ups/12"[^>]*>Open follow-up #12</a>', page)


def test_overdue_batch_links_to_the_filtered_list_and_each_follow_up(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    message = make_message(make_item(1), make_item(2))
    payload = slack_payload(message, BERLIN, base_url=BASE)
    assert ("Open the overdue list", f"{BASE}/follow-ups?overdue=true") in buttons(payload)
    assert ("Open follow-up", f"{BASE}/follow-ups/1") in buttons(payload)
    assert ("Open follow-up", f"{BASE}/follow-ups/2") in buttons(payload)
    assert f"Open the overdue list: {BASE}/follow-ups?overdue=true" in plain_text(
        message, BERLIN, base_url=BASE
    )


def test_closed_with_issue_batch_links_to_the_open_issues(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    items = [make_item(n, status="closed_with_issue", issue_summary="leak") for n in (1, 2)]
    payload = slack_payload(make_message(*items, kind=Kind.CLOSED_WITH_ISSUE), base_url=BASE)
    url = f"{BASE}/follow-ups?status=closed_with_issue&openIssue=true"
    assert ("Open the list of open issues", url) in buttons(payload)


def test_digest_links_to_the_dashboard(make_message: MakeMessage) -> None:
    digest = Message(kind=Kind.DIGEST, key="digest:2026-11-25", now=NOW, counts={"overdue": 3})
    assert buttons(slack_payload(digest, base_url=BASE)) == [("Open the dashboard", f"{BASE}/")]
    assert f"Open the dashboard: {BASE}/" in plain_text(digest, base_url=BASE)
    assert f'href="{BASE}/"' in html(digest, base_url=BASE)


def test_without_a_base_url_there_are_no_links(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    message = make_message(make_item(1), make_item(2))
    assert buttons(slack_payload(message, BERLIN)) == []
    for rendering in every_rendering(message, base_url=None):
        assert "http" not in rendering and "/follow-ups" not in rendering


def test_slack_dates_let_each_reader_see_their_own_time(make_message: MakeMessage) -> None:
    text = "\n".join(texts(slack_payload(make_message(), BERLIN)))
    due = int((NOW - timedelta(hours=3, minutes=20)).timestamp())
    assert f"<!date^{due}^{{date_short_pretty}} {{time}}|2026-11-25 12:40 CET>" in text
    assert f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}} {{time}}|" in text


def test_values_read_as_words_not_enum_values(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    item = make_item(status="closed_with_issue", last_contact_outcome="reached_customer",
                     issue_summary="Panel cracked")  # fmt: skip
    for rendering in every_rendering(make_message(item, kind=Kind.CLOSED_WITH_ISSUE)):
        words = visible(rendering)
        assert "Closed with an open issue" in words and "Reached the customer" in words
        assert "closed_with_issue" not in words and "reached_customer" not in words


def test_a_closed_follow_up_has_no_due_countdown(
    make_item: MakeItem, make_message: MakeMessage
) -> None:
    # Given a follow-up that closed with an issue long after it was due
    item = make_item(status="closed_with_issue", due_at=NOW - timedelta(days=9))
    for rendering in every_rendering(make_message(item, kind=Kind.CLOSED_WITH_ISSUE)):
        words = visible(rendering)
        # Then no medium counts days to or past its due date
        assert "overdue" not in words and "due in" not in words, words
        assert "Was due" in words


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=2, hours=11), "2 days"),
        (timedelta(days=2, hours=12), "3 days"),
        (timedelta(days=2, hours=23), "3 days"),
        (timedelta(days=1, hours=23, minutes=59), "1 day 23 h"),
        (timedelta(days=6, hours=13), "7 days"),
    ],
)
def test_days_round_to_the_nearest_day(delta: timedelta, expected: str) -> None:
    assert humanise(delta) == expected


def test_due_wording_counts_both_ways_and_not_for_closed() -> None:
    assert due_timing("pending", NOW + timedelta(days=2, hours=23), NOW) == "due in 3 days"
    assert due_timing("in_progress", NOW - timedelta(hours=2), NOW) == "2 h overdue"
    assert due_timing("completed", NOW - timedelta(days=4), NOW) == ""


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "ops.ied.example", 'https://x"><b>'])
def test_base_url_must_be_a_web_address(bad: str) -> None:
    with pytest.raises(ValidationError):
        build_settings("sqlite://", base_url=bad)


def test_base_url_loses_its_trailing_slash() -> None:
    assert build_settings("sqlite://", base_url="https://ops.ied.example/").base_url == BASE


def test_configured_slack_channel_sends_the_button(
    slack: FakeSlack, make_message: MakeMessage
) -> None:
    # Given settings with a webhook and IED_BASE_URL
    settings = build_settings("sqlite://", slack_webhook_url=slack.url, base_url=BASE)
    channel = channels_from_settings(settings)["slack"]
    # When a message goes out through the channel the dispatcher would use
    with channel.open() as sender:
        sender.send(make_message())
    # Then the webhook received the button to the follow-up's page
    (body,) = slack.bodies
    assert ("Open follow-up", f"{BASE}/follow-ups/12") in buttons(body)
