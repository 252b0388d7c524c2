"""What the pages show: counts, lists, the detail page's forms, refusals, hostile text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from ied_workflow import states
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.web.console.forms import FORMS
from ied_workflow.workflow import Workflow
from tests.support.console_client import HOSTILE, Browser, follow_up, reached
from tests.support.data import NOW
from tests.support.database import snapshot


def buttons(page: str) -> list[str]:
    return re.findall(r'<button type="submit"[^>]*>([^<]+)</button>', page)


def test_dashboard_counts_link_to_their_lists(wf: Workflow, as_role: dict[str, Browser]) -> None:
    # Given two overdue follow-ups, one due later today and one in a week
    follow_up(wf, "L-1", due_at=NOW - timedelta(days=3))
    follow_up(wf, "L-2", due_at=NOW - timedelta(hours=1))
    follow_up(wf, "L-3", due_at=NOW + timedelta(hours=2))
    follow_up(wf, "L-4", due_at=NOW + timedelta(days=7))
    page = as_role["viewer"].get("/").text
    # Then each count links to the list it counts
    tiles = dict(re.findall(r'href="([^"]+)">\s*<span class="count">([^<]+)</span>', page))
    assert tiles["/follow-ups?overdue=true"] == "2"
    assert tiles["/follow-ups?dueToday=true"] == "3"
    assert tiles["/follow-ups?status=pending"] == "4"
    # And the overdue section lists the oldest first, the later-today one apart
    overdue, later = page.split("Due later today")
    assert overdue.index("L-1") < overdue.index("L-2") and "L-3" not in overdue
    assert "L-3" in later.split("In progress, no contact")[0]


def test_dashboard_shows_quiet_work_and_open_issues(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    quiet = follow_up(wf, "L-Q", due_at=NOW + timedelta(days=9))
    wf.log_contact(quiet.id, by="a@ied.example", outcome="no_response", now=NOW - timedelta(days=4))
    busy = follow_up(wf, "L-B", due_at=NOW + timedelta(days=9))
    wf.log_contact(busy.id, by="a@ied.example", outcome="no_response")
    closed = reached(wf, "L-C")
    wf.record_outcome(closed.id, by="a@ied.example",
                      outcome=Outcome(has_issue=True, issue_summary="Loose panel"))  # fmt: skip
    page = as_role["viewer"].get("/").text
    quiet_part = page.split("In progress, no contact for 3 days")[1].split("Closed with an issue")[
        0
    ]
    assert "L-Q" in quiet_part and "L-B" not in quiet_part
    assert "L-C" in page.split("Closed with an issue still open")[1]


def test_list_filters_in_the_query_string_and_marks_overdue_rows(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    follow_up(wf, "L-1", due_at=NOW - timedelta(days=1), installer="I-1")
    follow_up(wf, "L-2", due_at=NOW + timedelta(days=1), installer="I-2")
    viewer = as_role["viewer"]
    overdue = viewer.get("/follow-ups?overdue=true").text
    assert "L-1" in overdue and "L-2" not in overdue
    assert '<tr class="overdue">' in overdue and '<div class="late">1 day overdue</div>' in overdue
    by_installer = viewer.get("/follow-ups?installerId=I-2&status=pending&status=in_progress").text
    assert "L-2" in by_installer and "L-1" not in by_installer
    assert 'value="pending" checked' in by_installer
    assert viewer.get("/follow-ups?status=bogus").status_code == 422
    assert viewer.get("/follow-ups?leadId=%3Cscript%3E").status_code == 422


def test_list_pages_by_keyset(wf: Workflow, as_role: dict[str, Browser]) -> None:
    for number in range(55):
        follow_up(wf, f"L-{number:03}", due_at=NOW + timedelta(minutes=number))
    first = as_role["viewer"].get("/follow-ups").text
    assert "L-049" in first and "L-050" not in first
    following = re.search(r'href="([^"]+)" rel="next"', first)
    assert following and "cursor=" in following.group(1)
    second = as_role["viewer"].get(following.group(1).replace("&amp;", "&")).text
    assert "L-050" in second and "L-054" in second and "L-049" not in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize("status_of", ["pending", "in_progress", "completed", "closed"])
def test_detail_offers_only_what_the_machine_allows(
    wf: Workflow, as_role: dict[str, Browser], status_of: str
) -> None:
    target = follow_up(wf)
    if status_of != "pending":
        target = wf.log_contact(target.id, by="a@ied.example", outcome="reached_customer")
    if status_of == "completed":
        outcome = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)
        target = wf.record_outcome(target.id, by="a@ied.example", outcome=outcome)
    if status_of == "closed":
        outcome = Outcome(has_issue=True, issue_summary="Scratch")
        target = wf.record_outcome(target.id, by="a@ied.example", outcome=outcome)
    page = as_role["operator"].get(f"/follow-ups/{target.id}").text
    expected = {FORMS[t].button for t in states.allowed_triggers(target.status)}
    assert set(buttons(page)) - {"Log out"} == expected


def test_detail_shows_every_contract_field_the_timeline_and_history(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    target = follow_up(wf)
    wf.log_contact(target.id, by="agent@ied.example", outcome="left_message", note="voicemail")
    page = as_role["viewer"].get(f"/follow-ups/{target.id}").text
    for field in ("leadId", "installerId", "status", "dueAt", "startedAt", "completedAt",
                  "contactAttemptCount", "lastContactedAt", "lastContactedByEmail",
                  "lastContactOutcome", "satisfactionOutcome", "hasIssue", "issueSummary",
                  "issueResolved", "referralOpportunity", "notes"):  # fmt: skip
        assert f'id="field-{field}"' in page, field
    assert "Left a message" in page and "voicemail" in page and "agent@ied.example" in page
    assert "planner@ied.example" in page  # the creation's actor in the history
    assert "CET" in page and "Times in Europe/Berlin" in page


def test_refused_action_shows_the_rule_and_changes_nothing(
    wf: Workflow, engine: Engine, as_role: dict[str, Browser]
) -> None:
    target = follow_up(wf)
    target = wf.log_contact(target.id, by="a@ied.example", outcome="no_response")
    before = snapshot(engine)
    form = {"version": target.version, "has_issue": "no", "satisfaction": "satisfied"}
    answer = as_role["operator"].post(f"/follow-ups/{target.id}/outcome", form)
    assert answer.status_code == 409
    assert "Refused: No contact attempt has reached the customer yet." in answer.text
    assert snapshot(engine) == before


def test_a_form_from_an_older_version_says_someone_acted_first(
    wf: Workflow, engine: Engine, as_role: dict[str, Browser]
) -> None:
    target = follow_up(wf)
    wf.add_note(target.id, text="someone else", by="other@ied.example")
    before = snapshot(engine)
    form = {"version": target.version, "note": "mine"}
    answer = as_role["operator"].post(f"/follow-ups/{target.id}/note", form)
    assert answer.status_code == 409
    assert "Someone else changed this follow-up first" in answer.text
    assert snapshot(engine) == before


def test_reschedule_reads_the_time_in_the_operations_timezone(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    target = follow_up(wf)
    form = {"version": target.version, "due_at": "2026-12-01T09:00"}
    assert as_role["operator"].post(f"/follow-ups/{target.id}/reschedule", form).status_code == 303
    assert wf.get(target.id).due_at.isoformat() == "2026-12-01T08:00:00+00:00"  # 09:00 CET


def test_customer_text_is_shown_as_text(wf: Workflow, as_role: dict[str, Browser]) -> None:
    target = reached(wf)
    wf.add_note(target.id, text=HOSTILE, by="a@ied.example")
    wf.record_outcome(target.id, by="a@ied.example",
                      outcome=Outcome(has_issue=True, issue_summary=HOSTILE))  # fmt: skip
    for path in (f"/follow-ups/{target.id}", "/"):
        page = as_role["viewer"].get(path).text
        assert "<img src=x" not in page and "<script>" not in page
    page = as_role["viewer"].get(f"/follow-ups/{target.id}").text
    assert "&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in page


def test_admin_sees_failed_notifications_and_retries_one(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    from ied_workflow.errors import PermanentDeliveryError

    class Broken:
        name = "slack"

        def open(self):  # type: ignore[no-untyped-def]
            raise PermanentDeliveryError("channel_not_found <b>x</b>")

    wf.send_digest()
    wf.dispatch({"slack": Broken()})  # type: ignore[dict-item]
    admin = as_role["admin"]
    page = admin.get("/notifications").text
    assert "channel_not_found &lt;b&gt;x&lt;/b&gt;" in page and ">Retry</button>" in page
    delivery = re.search(r'action="/notifications/(\d+)/retry"', page)
    assert delivery
    answer = admin.post(f"/notifications/{delivery.group(1)}/retry", {})
    assert answer.status_code == 303
    assert admin.get("/notifications").text.count(">Retry</button>") == 0
