"""The contract's validation scenarios, through the HTTP API, on SQLite and PostgreSQL.

The actor of every change is the token's user; see spec/follow-up-status-model.md.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from ied_workflow.web.api.routes import dashboard
from tests.support.api_client import Api, assert_problem, delivered, email_of, reached
from tests.support.data import NOW

OPERATOR = email_of("operator")
NO_ISSUE = {"hasIssue": False, "satisfaction": "satisfied"}
OPEN_ISSUE = {"hasIssue": True, "issueSummary": "roof still leaks"}


def act(api: Api, follow_up_id: int, action: str, **body: object) -> httpx.Response:
    return api.post(f"/api/v1/follow-ups/{follow_up_id}/{action}", json=body)


def test_lead_does_not_create_follow_up_until_operations_explicitly_needs_it(operator: Api) -> None:
    operator.put("/api/v1/leads/L-1", json={"status": "assigned", "installerId": "I-7"})
    assert operator.get("/api/v1/follow-ups", params={"leadId": "L-1"}).json()["items"] == []
    created = operator.post("/api/v1/follow-ups", json={"leadId": "L-1"})
    assert created.status_code == 201
    assert created.json()["createdByEmail"] == OPERATOR
    assert created.headers["Location"] == f"/api/v1/follow-ups/{created.json()['id']}"


def test_delivered_lead_can_create_one_primary_follow_up(operator: Api) -> None:
    first = delivered(operator)
    assert (first["status"], first["installerId"]) == ("pending", "I-7")
    again = operator.post("/api/v1/follow-ups", json={"leadId": "L-1"})
    problem = assert_problem(again, 409, "duplicate-follow-up")
    assert problem["followUpId"] == first["id"]  # a retried create finds its follow-up


def test_lead_not_delivered_is_not_eligible(operator: Api) -> None:
    operator.put("/api/v1/leads/L-9", json={"status": "new", "installerId": "I-7"})
    assert_problem(
        operator.post("/api/v1/follow-ups", json={"leadId": "L-9"}), 409, "lead-not-eligible"
    )
    operator.put("/api/v1/leads/L-8", json={"status": "assigned"})
    assert_problem(
        operator.post("/api/v1/follow-ups", json={"leadId": "L-8"}), 409, "lead-not-eligible"
    )


def test_due_follow_up_can_remain_pending_until_action_starts(operator: Api) -> None:
    late = delivered(operator, dueAt=(NOW - timedelta(days=1)).isoformat())
    assert late["status"] == "pending"
    overdue = operator.get("/api/v1/follow-ups", params={"overdue": "true"}).json()["items"]
    assert [f["id"] for f in overdue] == [late["id"]]
    assert operator.get(f"/api/v1/follow-ups/{late['id']}").json()["status"] == "pending"


def test_due_date_defaults_to_policy(operator: Api) -> None:
    follow_up = delivered(operator)
    assert follow_up["dueAt"] == (NOW + timedelta(days=3)).isoformat()


def test_once_staff_begin_working_status_moves_to_in_progress(operator: Api) -> None:
    follow_up = delivered(operator)
    started = act(operator, follow_up["id"], "start")
    assert started.status_code == 200
    body = started.json()
    assert (body["status"], body["startedAt"]) == ("in_progress", NOW.isoformat())


def test_logging_contact_on_pending_starts_it(operator: Api) -> None:
    follow_up = delivered(operator)
    answer = act(
        operator, follow_up["id"], "contact-attempts", outcome="left_message", note="voicemail"
    )
    body = answer.json()
    assert body["status"] == "in_progress"
    assert (body["contactAttemptCount"], body["lastContactOutcome"]) == (1, "left_message")
    assert (body["lastContactedByEmail"], body["lastContactedAt"]) == (OPERATOR, NOW.isoformat())


def test_contact_and_satisfaction_with_no_open_issue_completes(operator: Api) -> None:
    follow_up = reached(operator)
    done = act(operator, follow_up["id"], "outcome", **NO_ISSUE, referralOpportunity=True)
    body = done.json()
    assert (body["status"], body["completedAt"]) == ("completed", NOW.isoformat())
    assert (body["satisfactionOutcome"], body["hasIssue"], body["referralOpportunity"]) == (
        "satisfied",
        False,
        True,
    )


def test_completed_needs_reached_contact(operator: Api) -> None:
    follow_up = delivered(operator)
    act(operator, follow_up["id"], "contact-attempts", outcome="no_response")
    refused = act(operator, follow_up["id"], "outcome", **NO_ISSUE)
    assert_problem(refused, 409, "guard-failed")


def test_completed_needs_a_satisfaction_outcome(operator: Api) -> None:
    follow_up = reached(operator)
    assert_problem(act(operator, follow_up["id"], "outcome", hasIssue=False), 409, "guard-failed")


def test_contact_with_open_customer_issue_closes_with_issue(operator: Api) -> None:
    follow_up = reached(operator)
    closed = act(operator, follow_up["id"], "outcome", **OPEN_ISSUE).json()
    assert (closed["status"], closed["issueSummary"], closed["issueResolved"]) == (
        "closed_with_issue",
        "roof still leaks",
        False,
    )


def test_issue_already_resolved_completes(operator: Api) -> None:
    follow_up = reached(operator)
    body = {**OPEN_ISSUE, "issueResolved": True, "satisfaction": "mixed"}
    assert act(operator, follow_up["id"], "outcome", **body).json()["status"] == "completed"


def test_resolve_issue_keeps_closed_with_issue(operator: Api) -> None:
    follow_up = reached(operator)
    act(operator, follow_up["id"], "outcome", **OPEN_ISSUE)
    resolved = act(operator, follow_up["id"], "resolve-issue", note="installer fixed it").json()
    assert (resolved["status"], resolved["issueResolved"]) == ("closed_with_issue", True)
    assert resolved["notes"] == "installer fixed it"


def test_resolve_issue_needs_closed_with_issue(operator: Api) -> None:
    follow_up = reached(operator)
    refused = operator.post(f"/api/v1/follow-ups/{follow_up['id']}/resolve-issue")
    assert_problem(refused, 409, "transition-not-allowed")


def test_terminal_states_reject_transitions_and_contact_logs(operator: Api) -> None:
    follow_up = reached(operator)
    act(operator, follow_up["id"], "outcome", **NO_ISSUE)
    for action, body in (
        ("start", {}),
        ("contact-attempts", {"outcome": "attempted"}),
        ("outcome", NO_ISSUE),
        ("reschedule", {"dueAt": NOW.isoformat()}),
    ):
        refused = act(operator, follow_up["id"], action, **body)
        assert_problem(refused, 409, "transition-not-allowed")


def test_notes_can_be_added_in_any_status(operator: Api) -> None:
    follow_up = reached(operator)
    act(operator, follow_up["id"], "outcome", **NO_ISSUE)
    noted = act(operator, follow_up["id"], "notes", note="customer sent thanks").json()
    assert noted["notes"] == "customer sent thanks"


def test_reschedule_moves_the_due_date_of_an_open_follow_up(operator: Api) -> None:
    follow_up = delivered(operator)
    later = (NOW + timedelta(days=10)).isoformat()
    assert act(operator, follow_up["id"], "reschedule", dueAt=later).json()["dueAt"] == later


def test_follow_up_completion_does_not_change_lead_lifecycle(operator: Api) -> None:
    follow_up = reached(operator)
    before = operator.get("/api/v1/leads/L-1").json()
    act(operator, follow_up["id"], "outcome", **NO_ISSUE)
    assert (
        operator.get("/api/v1/leads/L-1").json()
        == before
        == {
            "id": "L-1",
            "status": "assigned",
            "installerId": "I-7",
            "updatedAt": NOW.isoformat(),
        }
    )


def test_dashboard_filters_due_in_progress_completed_and_issue_bearing(operator: Api) -> None:
    delivered(operator, "L-1", dueAt=(NOW - timedelta(hours=1)).isoformat())  # overdue, pending
    working = delivered(operator, "L-2")
    act(operator, working["id"], "start")
    done = reached(operator, "L-3")
    act(operator, done["id"], "outcome", **NO_ISSUE)
    issue = reached(operator, "L-4")
    act(operator, issue["id"], "outcome", **OPEN_ISSUE)
    counts = operator.get("/api/v1/dashboard").json()
    assert counts == {
        "pending": 1,
        "inProgress": 1,
        "completed": 1,
        "closedWithIssue": 1,
        "dueToday": 1,
        "overdue": 1,
        "hasIssue": 1,
        "openIssue": 1,
        "countCap": 10_000,
        "capped": [],
        "countedAt": NOW.isoformat(),
    }
    listed = operator.get(
        "/api/v1/follow-ups", params={"status": ["completed", "closed_with_issue"]}
    )
    assert {f["leadId"] for f in listed.json()["items"]} == {"L-3", "L-4"}
    issues = operator.get("/api/v1/follow-ups", params={"openIssue": "true"}).json()["items"]
    assert [f["leadId"] for f in issues] == ["L-4"]
    due = operator.get("/api/v1/follow-ups", params={"dueToday": "true", "installerId": "I-7"})
    assert [f["leadId"] for f in due.json()["items"]] == ["L-1"]


def test_dashboard_count_past_the_cap_reads_the_cap_and_is_listed_as_capped(
    operator: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a cap of 2 (10,000 in production) and 3 pending follow-ups, 2 in progress
    monkeypatch.setattr(dashboard, "COUNT_CAP", 2)
    for lead in ("L-1", "L-2", "L-3"):
        delivered(operator, lead)
    for lead in ("L-4", "L-5"):
        act(operator, delivered(operator, lead)["id"], "start")
    # When the dashboard is read
    counts = operator.get("/api/v1/dashboard").json()
    # Then the count past the cap reads the cap and says so; one at the cap is exact
    assert (counts["pending"], counts["inProgress"], counts["countCap"]) == (2, 2, 2)
    assert counts["capped"] == ["pending"]


def test_history_names_the_authenticated_actor_of_every_change(operator: Api) -> None:
    follow_up = reached(operator)
    act(operator, follow_up["id"], "outcome", **NO_ISSUE)
    history = operator.get(f"/api/v1/follow-ups/{follow_up['id']}/history").json()
    assert [e["type"] for e in history["events"]] == [
        "created",
        "contact_logged",
        "outcome_recorded",
    ]
    assert {e["actorEmail"] for e in history["events"]} == {OPERATOR}
    assert [(a["byEmail"], a["outcome"]) for a in history["attempts"]] == [
        (OPERATOR, "reached_customer")
    ]
