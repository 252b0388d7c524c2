"""The console in a real Chromium (Playwright) against a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Dialog, Page, expect

from ied_workflow.domain import Outcome
from ied_workflow.web.app import create_app
from ied_workflow.workflow import Workflow
from tests.support.browser import chromium, serving
from tests.support.console_client import HOSTILE, PASSWORD, email_of, follow_up, reached
from tests.support.data import NOW


@pytest.fixture
def site(wf: Workflow) -> Iterator[tuple[str, Page, list[str]]]:
    """(base URL, a fresh page, the messages of every dialog the page ever opened)."""
    dialogs: list[str] = []

    def seen(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    with serving(create_app(wf)) as base, chromium() as browser:
        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.on("dialog", seen)
        page.set_default_timeout(10_000)
        yield base, page, dialogs
        context.close()


def sign_in(page: Page, role: str, start: str = "/") -> None:
    page.goto(start)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email_of(role))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def action(page: Page, button: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("form", name=button)


def test_operator_works_an_overdue_follow_up_to_completed(
    wf: Workflow, site: tuple[str, Page, list[str]]
) -> None:
    _, page, dialogs = site
    # Given an overdue follow-up and another one due next week
    overdue = follow_up(wf, "L-OLD", due_at=NOW - timedelta(days=2))
    follow_up(wf, "L-NEXT", due_at=NOW + timedelta(days=7))
    # When the operator signs in, the dashboard counts them
    sign_in(page, "operator")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    expect(page.locator('a[href="/follow-ups?overdue=true"] .count')).to_have_text("1")
    expect(page.locator('a[href="/follow-ups?status=pending"] .count')).to_have_text("2")
    # And opens the overdue one from the dashboard
    page.locator("section", has_text="Overdue, oldest first").get_by_role(
        "link", name="L-OLD"
    ).click()
    expect(page).to_have_url(f"{page.url.split('/follow-ups')[0]}/follow-ups/{overdue.id}")
    expect(page.locator(".status-line .overdue-mark")).to_be_visible()
    # And logs a contact that reached the customer
    contact = action(page, "Log contact")
    contact.get_by_label("Outcome").select_option("reached_customer")
    contact.get_by_label("Note").fill("Spoke with the customer")
    contact.get_by_role("button", name="Log contact").click()
    expect(page.get_by_role("status")).to_have_text("Contact logged.")
    # And records the outcome with the form
    outcome = action(page, "Record outcome")
    outcome.get_by_label("Has issue").select_option("no")
    outcome.get_by_label("Satisfaction").select_option("satisfied")
    outcome.get_by_role("button", name="Record outcome").click()
    # Then the page shows `completed` and the new history entries, by the operator
    expect(page.locator("#field-status")).to_have_text("completed")
    history = page.locator("table.history tbody tr")
    expect(history.nth(0)).to_contain_text("Outcome recorded")
    expect(history.nth(0)).to_contain_text(email_of("operator"))
    expect(history.nth(1)).to_contain_text("Contact logged")
    expect(page.locator("ol.timeline")).to_contain_text("Spoke with the customer")
    expect(page.get_by_role("button", name="Record outcome")).to_have_count(0)
    # And logout ends the session
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert dialogs == []


def test_a_refusal_is_shown_on_the_page(wf: Workflow, site: tuple[str, Page, list[str]]) -> None:
    _, page, _ = site
    target = follow_up(wf)
    wf.log_contact(target.id, by="a@ied.example", outcome="left_message")
    sign_in(page, "operator", f"/follow-ups/{target.id}")
    outcome = action(page, "Record outcome")
    outcome.get_by_label("Has issue").select_option("no")
    outcome.get_by_label("Satisfaction").select_option("satisfied")
    outcome.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Refused: No contact attempt has reached the customer yet."
    )
    expect(page.locator("#field-status")).to_have_text("in_progress")


def test_a_viewer_sees_no_forms(wf: Workflow, site: tuple[str, Page, list[str]]) -> None:
    _, page, _ = site
    target = follow_up(wf)
    sign_in(page, "viewer", f"/follow-ups/{target.id}")
    expect(page.get_by_role("heading", name="Read only")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    for button in ("Start", "Log contact", "Reschedule", "Add note"):
        expect(page.get_by_role("button", name=button)).to_have_count(0)


def test_hostile_customer_text_is_shown_as_text(
    wf: Workflow, site: tuple[str, Page, list[str]]
) -> None:
    _, page, dialogs = site
    # Given a follow-up closed with a hostile issue summary and note
    target = reached(wf, "L-X")
    wf.add_note(target.id, text=HOSTILE, by="a@ied.example")
    outcome = Outcome(has_issue=True, issue_summary=HOSTILE)
    wf.record_outcome(target.id, by="a@ied.example", outcome=outcome)
    # When an operator opens the dashboard and the follow-up
    sign_in(page, "operator")
    page.locator("section", has_text="Closed with an issue still open").get_by_role(
        "link", name="L-X"
    ).click()
    # Then the text reads exactly as typed, nothing ran and no image was made of it
    expect(page.locator("#field-issueSummary")).to_have_text(HOSTILE)
    expect(page.locator("#field-notes")).to_have_text(HOSTILE)
    assert page.locator("main img, main script").count() == 0
    page.reload()
    page.wait_for_timeout(300)  # room for an onerror handler, had one been created
    assert dialogs == []
