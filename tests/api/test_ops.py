"""Dashboard, notifications (admins), health, readiness and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy.pool import NullPool

from ied_workflow.alerts.message import Message
from ied_workflow.db import engines
from ied_workflow.errors import PermanentDeliveryError
from ied_workflow.web.app import create_app
from ied_workflow.workflow import Workflow
from tests.support.api_client import SECRET, Api, assert_problem, reached
from tests.support.data import NOW
from tests.support.settings import build_settings


class Refusing:
    """A channel whose every message is refused for good (like Slack's channel_not_found)."""

    name = "slack"

    @contextmanager
    def open(self) -> Iterator[Refusing]:
        yield self

    def send(self, message: Message) -> None:
        raise PermanentDeliveryError("channel_not_found")


class Accepting(Refusing):
    def send(self, message: Message) -> None:
        """Delivered."""


def failed_delivery(wf: Workflow, operator: Api) -> int:
    follow_up = reached(operator)
    operator.post(
        f"/api/v1/follow-ups/{follow_up['id']}/outcome",
        json={"hasIssue": True, "issueSummary": "<!channel> leak"},
    )
    wf.dispatch({"slack": Refusing()}, now=NOW)
    [row] = wf.notifications("failed")
    return int(row["id"])


def test_admin_lists_failed_notifications_and_retries_them(
    wf: Workflow, operator: Api, admin: Api
) -> None:
    delivery_id = failed_delivery(wf, operator)
    failed = admin.get("/api/v1/notifications", params={"status": "failed"}).json()["items"]
    assert [(n["id"], n["channel"], n["kind"], n["lastError"]) for n in failed] == [
        (delivery_id, "slack", "closed_with_issue", "PermanentDeliveryError: channel_not_found")
    ]
    assert admin.post(f"/api/v1/notifications/{delivery_id}/retry").status_code == 204
    assert admin.get("/api/v1/notifications", params={"status": "failed"}).json()["items"] == []
    assert wf.dispatch({"slack": Accepting()}, now=NOW).sent == {"slack": 1}


def test_retrying_a_sent_notification_is_409_and_an_unknown_one_404(
    wf: Workflow, operator: Api, admin: Api
) -> None:
    delivery_id = failed_delivery(wf, operator)
    admin.post(f"/api/v1/notifications/{delivery_id}/retry")
    wf.dispatch({"slack": Accepting()}, now=NOW)
    assert_problem(admin.post(f"/api/v1/notifications/{delivery_id}/retry"), 409, "rule-violation")
    assert_problem(admin.post("/api/v1/notifications/999/retry"), 404, "not-found")


def test_notification_status_filter_is_validated(admin: Api) -> None:
    assert_problem(admin.get("/api/v1/notifications", params={"status": "lost"}), 422)


def test_healthz_and_readyz_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_does_not_answer() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    settings = build_settings(url, secret_key=SECRET)
    wf = Workflow(engines.make_engine(url, poolclass=NullPool), settings)
    with TestClient(create_app(wf)) as client:
        assert client.get("/healthz").status_code == 200
        answer = client.get("/readyz")
    problem = assert_problem(answer, 503, "database-unavailable")
    assert "nobody" not in answer.text and "127.0.0.1" not in problem["detail"]


def test_metrics_show_follow_ups_overdue_deliveries_and_latency(
    wf: Workflow, client: TestClient, operator: Api
) -> None:
    failed_delivery(wf, operator)
    operator.get("/api/v1/dashboard")
    text = client.get("/metrics").text
    for line in (
        'ied_follow_ups{status="closed_with_issue"} 1.0',
        'ied_follow_ups{status="pending"} 0.0',
        "ied_follow_ups_overdue 0.0",
        'ied_deliveries{channel="slack",status="failed"} 1.0',
        'ied_deliveries{channel="console",status="pending"} 0.0',
        "ied_http_request_duration_seconds_count"
        '{method="GET",route="/api/v1/dashboard",status="200"} 1.0',
    ):
        assert line in text, line


def test_openapi_document_and_docs_are_served(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/follow-ups/{id}/outcome" in document["paths"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert client.get("/api/docs").status_code == 200


def test_the_app_refuses_to_start_without_a_secret_key(database_url: str) -> None:
    import pytest

    from ied_workflow.errors import ValidationError

    wf = Workflow(engines.make_engine(database_url), build_settings(database_url))
    with pytest.raises(ValidationError, match="IED_SECRET_KEY"):
        create_app(wf)
