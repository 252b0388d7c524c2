"""GET /api/v1/dashboard shares its counts for IED_DASHBOARD_COUNTS_SECONDS and says when
they were counted (`countedAt`), on the clock every other decision reads."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ied_workflow.db.clock import FixedClock
from ied_workflow.web.app import create_app
from ied_workflow.workflow import Workflow
from tests.support.api_client import Api, delivered
from tests.support.data import NOW

WINDOW = 5  # the setting's default, which these tests' settings keep


def read(api: Api) -> tuple[int, str]:
    body = api.get("/api/v1/dashboard").json()
    return body["pending"], body["countedAt"]


def test_a_change_within_the_window_is_not_yet_counted(operator: Api, clock: FixedClock) -> None:
    # Given a dashboard read with one pending follow-up
    delivered(operator, "L-1")
    assert read(operator) == (1, NOW.isoformat())
    # When another is opened and the dashboard read again just inside the window
    delivered(operator, "L-2")
    clock.advance(timedelta(seconds=WINDOW - 0.001))
    # Then the shared counts answer, with the instant they were counted at
    assert read(operator) == (1, NOW.isoformat())


def test_past_the_window_the_counts_are_taken_again_without_a_request_waiting(
    operator: Api, clock: FixedClock
) -> None:
    # Given a dashboard read, then a second follow-up
    delivered(operator, "L-1")
    read(operator)
    delivered(operator, "L-2")
    # When the window has passed
    clock.advance(timedelta(seconds=WINDOW))
    # Then the next request answers the previous counts at once, while they are counted again
    previous = (1, NOW.isoformat())
    assert read(operator) == previous
    # And the new count shows as soon as it is taken, counted at its own instant
    assert until_changed(operator, previous) == (2, (NOW + timedelta(seconds=WINDOW)).isoformat())


def test_counts_two_windows_old_are_taken_again_before_answering(
    operator: Api, clock: FixedClock
) -> None:
    delivered(operator, "L-1")
    read(operator)
    delivered(operator, "L-2")
    clock.advance(timedelta(seconds=2 * WINDOW))  # e.g. the first request after a quiet hour
    assert read(operator) == (2, (NOW + timedelta(seconds=2 * WINDOW)).isoformat())


def until_changed(api: Api, previous: tuple[int, str]) -> tuple[int, str]:
    """The dashboard once its background recount has landed (10 s at most)."""
    deadline = time.monotonic() + 10
    while (latest := read(api)) == previous and time.monotonic() < deadline:
        time.sleep(0.01)
    return latest


def test_a_clock_that_went_back_counts_again(operator: Api, clock: FixedClock) -> None:
    # Given a dashboard read at NOW, then a second follow-up
    delivered(operator, "L-1")
    read(operator)
    delivered(operator, "L-2")
    # When the clock reads a minute earlier than the snapshot (more than the window)
    clock.set(NOW - timedelta(minutes=1))
    # Then a snapshot from the future is not reused
    assert read(operator) == (2, (NOW - timedelta(minutes=1)).isoformat())


def test_a_snapshot_a_moment_ahead_is_reused(operator: Api, clock: FixedClock) -> None:
    # Given a dashboard read at NOW, then a second follow-up
    delivered(operator, "L-1")
    read(operator)
    delivered(operator, "L-2")
    # When a request's transaction began a second before the snapshot was counted
    clock.set(NOW - timedelta(seconds=1))
    # Then it answers the snapshot rather than counting again
    assert read(operator) == (1, NOW.isoformat())


def test_a_window_of_zero_counts_on_every_request(
    engine: Engine, wf: Workflow, clock: FixedClock, tokens: dict[str, str]
) -> None:
    # Given a server configured with IED_DASHBOARD_COUNTS_SECONDS=0
    settings = wf.settings.model_copy(update={"dashboard_counts_seconds": 0})
    with TestClient(create_app(Workflow(engine, settings, clock=clock))) as client:
        operator = Api(client, tokens["operator"])
        delivered(operator, "L-1")
        assert read(operator) == (1, NOW.isoformat())
        # When a follow-up is opened, at the same instant
        delivered(operator, "L-2")
        # Then the next read counts it
        assert read(operator) == (2, NOW.isoformat())


def test_the_schema_says_how_old_counts_may_be(viewer: Api) -> None:
    schema = viewer.get("/api/v1/openapi.json").json()["components"]["schemas"]["DashboardOut"]
    assert "countedAt" in schema["required"]
    assert "IED_DASHBOARD_COUNTS_SECONDS" in schema["properties"]["countedAt"]["description"]
