"""Turn a Message into a Slack payload, an email or plain text; pure functions, no I/O.

Every string that came from outside (ids, statuses, issue summaries) is cleaned of
control characters and escaped for its medium; headers carry only ints and our own words.
With `base_url` (IED_BASE_URL) each message links to the console page that lets people
act on it; without it there are no links, since a relative one leads nowhere from Slack.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ied_workflow import labels, links
from ied_workflow.alerts.message import AlertItem, Kind, Message
from ied_workflow.labels import humanise

__all__ = ["email_message", "html", "humanise", "plain_text", "slack_payload", "subject"]

SLACK_LISTED = 20  # Slack allows 50 blocks a message; 20 items stay readable
EMAIL_LISTED = 200  # an email can list more, but 10,000 lines help nobody
SLACK_TEXT_MAX = 3000  # Slack's limit on a section's text
SLACK_ISSUE_MAX = 1500  # escaped summary per item, so one item never fills a section
BRAND = "ied-workflow"
COUNT_LABELS = {
    "due_today": "Due today",
    "overdue": "Overdue",
    "in_progress": "In progress",
    "open_issues": "Open issues",
}
# C0/C1 controls (but newline and tab), and bidi overrides that can reorder what a reader sees.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\r\n|[\r\u2028\u2029]")
_DOT_ATOM = re.compile(r"[A-Za-z0-9_+=-]+(?:\.[A-Za-z0-9_+=-]+)*")
_ENV = Environment(
    loader=PackageLoader("ied_workflow.alerts", "templates"),
    autoescape=select_autoescape(
        enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",), default=True
    ),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class ItemView:
    """One follow-up as every medium shows it: cleaned text, not yet escaped."""

    follow_up_id: int
    lead_id: str
    installer: str
    status: str  # the human label ("Closed with an open issue")
    closed: bool  # a closed follow-up has no due countdown
    due: str
    due_epoch: int  # for Slack's <!date^...>, so each reader sees their own time
    timing: str
    attempts: int
    last_outcome: str
    issue_lines: tuple[str, ...]
    url: str | None  # its console page, when IED_BASE_URL is set


@dataclass(frozen=True, slots=True)
class View:
    """What a message says, shared by the Slack, text and HTML renderings."""

    title: str
    generated: str
    generated_epoch: int
    counts: tuple[tuple[str, int], ...]
    items: tuple[ItemView, ...]
    more: int
    note: str  # said when there is nothing else to say
    action: tuple[str, str] | None  # (label, url): the console page to act from


ITEM_ACTION = "Open follow-up"


def clean(text: str) -> str:
    """Customer text with newlines normalised and invisible or terminal controls removed."""
    return _UNSAFE.sub("", _NEWLINES.sub("\n", text))


def one_line(text: str) -> str:
    """Cleaned text squeezed onto one line, for fields that must not break a layout."""
    return " ".join(clean(text).split())


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control (pings, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message_id(key: str) -> str:
    """A stable Message-ID from the message key, so a resend is recognisably the same mail."""
    if len(key) <= 200 and _DOT_ATOM.fullmatch(key):
        return f"<{key}@{BRAND}>"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")[:60] or "alert"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"<{slug}.{digest}@{BRAND}>"


def subject(message: Message) -> str:
    """The email subject: kind, counts and ids only, never customer text."""
    title = _title(message)
    figures = [f"{value} {label.lower()}" for label, value in _counts(message.counts, True)]
    return f"[{BRAND}] {title}" + (f": {', '.join(figures)}" if figures else "")


def build_view(message: Message, zone: tzinfo, listed: int, base_url: str | None = None) -> View:
    """The shared view of a message, listing at most `listed` items."""
    now = _aware(message.now)
    shown = message.items[:listed]
    return View(
        title=_title(message),
        generated=_local(now, zone),
        generated_epoch=int(now.timestamp()),
        counts=_counts(message.counts, known_only=False),
        items=tuple(_item_view(item, now, zone, base_url) for item in shown),
        more=len(message.items) - len(shown),
        note="" if message.items or message.counts else _note(message.kind),
        action=_action(message, base_url),
    )


def _action(message: Message, base_url: str | None) -> tuple[str, str] | None:
    """Where the whole message leads: the one follow-up, the filtered list, the dashboard."""
    if len(message.items) == 1:
        path = links.follow_up(message.items[0].follow_up_id)
        label = f"{ITEM_ACTION} #{message.items[0].follow_up_id}"
    elif message.kind is Kind.OVERDUE and message.items:
        path, label = links.OVERDUE_LIST, "Open the overdue list"
    elif message.kind is Kind.CLOSED_WITH_ISSUE and message.items:
        path, label = links.OPEN_ISSUES_LIST, "Open the list of open issues"
    elif message.kind is Kind.DIGEST:
        path, label = links.DASHBOARD, "Open the dashboard"
    else:
        return None
    url = links.absolute(base_url, path)
    return None if url is None else (label, url)


def plain_text(message: Message, zone: tzinfo = UTC, *, base_url: str | None = None) -> str:
    """The readable text rendering, used for the email text part and the console."""
    view = build_view(message, zone, EMAIL_LISTED, base_url)
    return _ENV.get_template("alert.txt.j2").render(view=view)


def html(message: Message, zone: tzinfo = UTC, *, base_url: str | None = None) -> str:
    """The HTML rendering; Jinja autoescape escapes every value."""
    view = build_view(message, zone, EMAIL_LISTED, base_url)
    return _ENV.get_template("alert.html.j2").render(view=view)


def email_message(
    message: Message,
    sender: str,
    recipients: Sequence[str],
    zone: tzinfo = UTC,
    *,
    base_url: str | None = None,
) -> EmailMessage:
    """One email (text + HTML); raises ValueError if sender or recipients hold CR/LF."""
    email = EmailMessage()
    email["Subject"] = subject(message)
    email["From"] = sender
    email["To"] = ", ".join(recipients)
    email["Date"] = format_datetime(_aware(message.now).astimezone(zone))
    email["Message-ID"] = message_id(message.key)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to alerts
    email.set_content(plain_text(message, zone, base_url=base_url))
    email.add_alternative(html(message, zone, base_url=base_url), subtype="html")
    return email


def slack_payload(
    message: Message, zone: tzinfo = UTC, *, base_url: str | None = None
) -> dict[str, Any]:
    """A Block Kit message with a plain `text` fallback; every text field is escaped."""
    view = build_view(message, zone, SLACK_LISTED, base_url)
    batch = len(view.items) > 1  # one item: the message's own button opens it
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": view.title[:150]}},
        _section(_slack_summary(view)),
        *(_section(_slack_item(item), item.url if batch else None) for item in view.items),
    ]
    if view.more:
        blocks.append(_context(f"… and {view.more} more"))
    if view.action is not None:
        blocks.append(_actions(*view.action))
    return {
        "text": slack_escape(_fallback(message)),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _title(message: Message) -> str:
    ids = [item.follow_up_id for item in message.items]
    one = len(ids) == 1
    if message.kind is Kind.OVERDUE:
        return f"Follow-up #{ids[0]} is overdue" if one else f"{len(ids)} follow-ups are overdue"
    if message.kind is Kind.CLOSED_WITH_ISSUE:
        if one:
            return f"Follow-up #{ids[0]} was closed with an issue"
        return f"{len(ids)} follow-ups were closed with an issue"
    if message.kind is Kind.DIGEST:
        return "Daily follow-up digest"
    return f"Test notification from {BRAND}"


def _note(kind: Kind) -> str:
    if kind is Kind.TEST:
        return "If you can read this, alerts reach this channel."
    return "Nothing to report."


def _fallback(message: Message) -> str:
    figures = ", ".join(f"{label}: {value}" for label, value in _counts(message.counts, True))
    return f"{_title(message)}" + (f" ({figures})" if figures else "")


def _counts(counts: Mapping[str, int], known_only: bool) -> tuple[tuple[str, int], ...]:
    known = [(label, int(counts[key])) for key, label in COUNT_LABELS.items() if key in counts]
    if known_only:
        return tuple(known)
    others = sorted(key for key in counts if key not in COUNT_LABELS)
    return (
        *known,
        *((one_line(key).replace("_", " ").capitalize(), int(counts[key])) for key in others),
    )


def _item_view(item: AlertItem, now: datetime, zone: tzinfo, base_url: str | None) -> ItemView:
    due = _aware(item.due_at)
    summary = clean(item.issue_summary or "").strip("\n")
    timing = labels.due_timing(item.status, due, now)
    return ItemView(
        follow_up_id=item.follow_up_id,
        lead_id=one_line(item.lead_id),
        installer=one_line(item.installer_id) if item.installer_id else "none",
        status=one_line(labels.status(item.status)),
        closed=not timing,
        due=_local(due, zone),
        due_epoch=int(due.timestamp()),
        timing=timing,
        attempts=item.contact_attempt_count,
        last_outcome=one_line(labels.contact_outcome(item.last_contact_outcome)) or "none yet",
        issue_lines=tuple(summary.split("\n")) if summary else (),
        url=links.absolute(base_url, links.follow_up(item.follow_up_id)),
    )


def slack_date(epoch: int, fallback: str) -> str:
    """Slack's date token: each reader sees the instant in their own timezone."""
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{slack_escape(fallback)}>"


def _slack_summary(view: View) -> str:
    lines = [f"Generated {slack_date(view.generated_epoch, view.generated)}"]
    lines += [f"*{slack_escape(label)}:* {value}" for label, value in view.counts]
    if view.note:
        lines.append(slack_escape(view.note))
    return "\n".join(lines)


def _slack_item(item: ItemView) -> str:
    esc = slack_escape
    due = slack_date(item.due_epoch, item.due)
    lines = [
        f"*Follow-up #{item.follow_up_id}* · lead {esc(item.lead_id)} · "
        f"installer {esc(item.installer)} · {esc(item.status)}",
        f"Was due {due}" if item.closed else f"Due {due} · *{esc(item.timing)}*",
        f"Contact attempts so far: {item.attempts} · last outcome: {esc(item.last_outcome)}",
    ]
    if item.issue_lines:
        summary = _clip(esc("\n".join(item.issue_lines)), SLACK_ISSUE_MAX)
        # Quoting every line keeps customer newlines inside the quote, not in our layout.
        lines += ["Issue summary:", *(f"> {line}" for line in summary.split("\n"))]
    return "\n".join(lines)


def _section(text: str, url: str | None = None) -> dict[str, Any]:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SLACK_TEXT_MAX)}}
    if url is not None:
        block["accessory"] = _button(ITEM_ACTION, url)
    return block


def _button(label: str, url: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url}


def _actions(label: str, url: str) -> dict[str, Any]:
    """The message's call to action; a single follow-up's button says `Open follow-up`."""
    text = ITEM_ACTION if label.startswith(ITEM_ACTION) else label
    return {"type": "actions", "elements": [{**_button(text, url), "style": "primary"}]}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _clip(escaped: str, limit: int) -> str:
    """Shorten escaped text to `limit` chars without cutting an entity like '&amp;' in half."""
    if len(escaped) <= limit:
        return escaped
    return re.sub(r"&[a-z]*$", "", escaped[: limit - 1]) + "…"


def _aware(moment: datetime) -> datetime:
    """Naive datetimes (SQLite) are UTC by this project's convention."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z").strip()
