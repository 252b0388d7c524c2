"""At the HTTP level: sessions, CSRF, roles, redirects and headers, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ied_workflow.web.console.session import local_path
from ied_workflow.workflow import Workflow
from tests.support.console_client import Browser, email_of, follow_up, reached
from tests.support.database import snapshot

FORMS = {  # every state-changing form of the console, with a valid body
    "/follow-ups/{id}/start": {},
    "/follow-ups/{id}/contact": {"outcome": "attempted"},
    "/follow-ups/{id}/outcome": {"has_issue": "no", "satisfaction": "satisfied"},
    "/follow-ups/{id}/resolve": {},
    "/follow-ups/{id}/reschedule": {"due_at": "2026-12-01T09:00"},
    "/follow-ups/{id}/note": {"note": "called back"},
}


def test_pages_need_a_sign_in_and_remember_where_you_were_going(browser: Browser) -> None:
    answer = browser.get("/follow-ups?overdue=true")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Ffollow-ups%3Foverdue%3Dtrue"


def test_sign_in_goes_on_to_the_page_and_sets_a_safe_cookie(browser: Browser) -> None:
    answer = browser.sign_in("viewer", next="/follow-ups?overdue=true")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/follow-ups?overdue=true"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert browser.get("/").status_code == 200


def test_cookie_is_secure_when_the_console_is_served_over_https(
    engine: Engine, database_url: str
) -> None:
    from fastapi.testclient import TestClient

    from ied_workflow.db.clock import FixedClock
    from ied_workflow.web.app import create_app
    from tests.support.console_client import PASSWORD, console_settings
    from tests.support.data import NOW

    settings = console_settings(database_url, base_url="https://ops.ied.example")
    wf = Workflow(engine, settings, clock=FixedClock(NOW))
    wf.add_user(email_of("viewer"), role="viewer", password=PASSWORD)
    with TestClient(create_app(wf), base_url="https://testserver") as client:
        answer = Browser(client).sign_in("viewer")
    assert "; secure" in answer.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example",
               "javascript:alert(1)", "follow-ups"],
)  # fmt: skip
def test_sign_in_never_sends_you_off_site(browser: Browser, target: str) -> None:
    assert local_path(target) == "/"
    assert browser.sign_in("viewer", next=target).headers["location"] == "/"


def test_failed_sign_in_does_not_say_which_field_was_wrong(browser: Browser) -> None:
    wrong_password = browser.sign_in("viewer", password="not the password")
    browser.client.cookies.clear()
    wrong_email = browser.post("/login", {"email": "nobody@ied.example", "password": "x" * 12})
    for answer in (wrong_password, wrong_email):
        assert answer.status_code == 401
        assert "That email and password do not match an active account." in answer.text
        assert "set-cookie" not in answer.headers or "uid" not in answer.headers["set-cookie"]


def test_repeated_failures_are_slowed_down(browser: Browser) -> None:
    # Given three wrong passwords in a row for one account from one address
    for _ in range(3):
        assert browser.sign_in("operator", password="wrong password").status_code == 401
    # When a fourth fails, the next try must wait, even with the right password
    assert browser.sign_in("operator", password="wrong again!").status_code == 401
    waiting = browser.sign_in("operator")
    assert waiting.status_code == 429
    assert "Too many failed attempts" in waiting.text
    assert browser.get("/").status_code == 303  # still not signed in


def test_disabled_user_is_signed_out_at_the_next_request(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    viewer = as_role["viewer"]
    assert viewer.get("/").status_code == 200
    wf.disable_user(email_of("viewer"))
    assert viewer.get("/").status_code == 303


def test_logout_ends_the_session(as_role: dict[str, Browser]) -> None:
    viewer = as_role["viewer"]
    assert viewer.post("/logout", {}).headers["location"] == "/login"
    assert viewer.get("/").status_code == 303


@pytest.mark.parametrize(
    ("path", "token"),
    [*((path, None) for path in FORMS), ("/follow-ups/{id}/contact", "forged-token"),
     ("/follow-ups/{id}/outcome", "")],
)  # fmt: skip
def test_a_form_without_this_sessions_token_is_refused_and_changes_nothing(
    wf: Workflow, engine: Engine, as_role: dict[str, Browser], path: str, token: str | None
) -> None:
    # Given an admin's session and a follow-up where every action could apply
    target = reached(wf)
    before = snapshot(engine)
    # When a form arrives without the session's CSRF token
    answer = as_role["admin"].post(path.format(id=target.id), FORMS[path], token=token)
    # Then it is refused and nothing was written
    assert answer.status_code == 403
    assert "This form has expired" in answer.text
    assert snapshot(engine) == before


def test_notification_retry_and_logout_need_the_token_too(as_role: dict[str, Browser]) -> None:
    assert as_role["admin"].post("/notifications/1/retry", {}, token=None).status_code == 403
    assert as_role["viewer"].post("/logout", {}, token="forged").status_code == 403
    assert as_role["viewer"].get("/").status_code == 200  # still signed in


@pytest.mark.parametrize("path", list(FORMS))
def test_viewers_posts_are_refused_and_change_nothing(
    wf: Workflow, engine: Engine, as_role: dict[str, Browser], path: str
) -> None:
    target = reached(wf)
    before = snapshot(engine)
    answer = as_role["viewer"].post(path.format(id=target.id), FORMS[path])
    assert answer.status_code == 403
    assert "Not allowed for your role" in answer.text
    assert snapshot(engine) == before


def test_viewers_see_no_action_forms(wf: Workflow, as_role: dict[str, Browser]) -> None:
    target = follow_up(wf)
    page = as_role["viewer"].get(f"/follow-ups/{target.id}").text
    assert "Read only" in page
    for button in ("Start", "Log contact", "Reschedule", "Add note"):
        assert f">{button}</button>" not in page
    operator_page = as_role["operator"].get(f"/follow-ups/{target.id}").text
    assert ">Log contact</button>" in operator_page


def test_notifications_are_for_admins_only(as_role: dict[str, Browser]) -> None:
    assert as_role["operator"].get("/notifications").status_code == 403
    assert as_role["admin"].get("/notifications").status_code == 200
    assert "Notifications</a>" not in as_role["operator"].get("/").text
    assert as_role["operator"].post("/notifications/1/retry", {}).status_code == 403


def test_security_headers_on_pages(as_role: dict[str, Browser]) -> None:
    headers = as_role["viewer"].get("/").headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    css = as_role["viewer"].get("/static/console.css")
    assert css.status_code == 200 and css.headers["x-content-type-options"] == "nosniff"


def test_the_actor_of_a_change_is_the_signed_in_user(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    target = follow_up(wf)
    data = {"outcome": "left_message", "version": target.version, "actor": "boss@ied.example"}
    assert as_role["operator"].post(f"/follow-ups/{target.id}/contact", data).status_code == 303
    events, attempts = wf.history(target.id)
    assert attempts[-1].by_email == email_of("operator")
    assert events[-1].actor_email == email_of("operator")
