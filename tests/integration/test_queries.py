"""Dashboard filters at their boundaries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ied_workflow.follow_ups import queries
from ied_workflow.follow_ups.queries import Filter, end_of_today
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPS, SATISFIED, delivered, reached
from tests.support.settings import build_settings

NEW_YORK = ZoneInfo("America/New_York")


def test_overdue_excludes_a_follow_up_due_exactly_now(workflow: Workflow) -> None:
    exactly = delivered(workflow, "L-1", due_at=NOW)
    just_before = delivered(workflow, "L-2", due_at=NOW - timedelta(microseconds=1))
    overdue = workflow.find(Filter(overdue=True), NOW)
    assert [f.id for f in overdue] == [just_before.id]
    assert exactly.id in [f.id for f in workflow.find(Filter(due=True), NOW)]


def test_due_today_ends_at_local_midnight_in_the_operations_timezone(
    engine: Engine, database_url: str
) -> None:
    workflow = Workflow(engine, build_settings(database_url, ops_timezone="America/New_York"))
    # 21:30 in New York on 25 November is already 02:30 UTC on the 26th.
    now = datetime(2026, 11, 25, 21, 30, tzinfo=NEW_YORK)
    midnight = datetime(2026, 11, 26, 0, 0, tzinfo=NEW_YORK)
    last_moment = delivered(workflow, "L-1", due_at=midnight - timedelta(microseconds=1))
    delivered(workflow, "L-2", due_at=midnight)
    assert [f.id for f in workflow.find(Filter(due=True), now)] == [last_moment.id]
    assert workflow.count(Filter(due=True), now) == 1


def test_end_of_today_follows_daylight_saving_changes() -> None:
    # 1 November 2026 is 25 hours long in New York (clocks go back).
    now = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
    elapsed = end_of_today(now, NEW_YORK).astimezone(UTC) - now.astimezone(UTC)
    assert elapsed == timedelta(hours=24, minutes=30)


def test_due_and_overdue_exclude_closed_follow_ups(workflow: Workflow) -> None:
    follow_up = reached(workflow, "L-1")
    workflow.reschedule(follow_up.id, due_at=NOW - timedelta(days=3), by=OPS)
    assert workflow.count(Filter(overdue=True), NOW) == 1
    workflow.record_outcome(follow_up.id, by=OPS, outcome=SATISFIED)
    assert workflow.count(Filter(overdue=True), NOW) == 0
    assert workflow.count(Filter(due=True), NOW) == 0


def test_installer_and_status_filters_combine(workflow: Workflow) -> None:
    first = delivered(workflow, "L-1")
    workflow.upsert_lead("L-2", status="assigned", installer_id="I-other")
    other = workflow.create("L-2", by=OPS)
    workflow.start(other.id, by=OPS)
    assert [f.id for f in workflow.find(Filter(installer_id="I-7"), NOW)] == [first.id]
    both = Filter(installer_id="I-other", statuses=("in_progress",))  # type: ignore[arg-type]
    assert [f.id for f in workflow.find(both, NOW)] == [other.id]
    assert workflow.count(Filter(installer_id="I-nobody"), NOW) == 0


def test_has_issue_includes_resolved_but_open_issue_does_not(workflow: Workflow) -> None:
    from ied_workflow.domain import Outcome

    follow_up = reached(workflow)
    workflow.record_outcome(
        follow_up.id, by=OPS, outcome=Outcome(has_issue=True, issue_summary="dent")
    )
    workflow.resolve_issue(follow_up.id, by=OPS)
    assert workflow.count(Filter(has_issue=True), NOW) == 1
    assert workflow.count(Filter(open_issue=True), NOW) == 0


def test_capped_count_stops_after_the_cap(workflow: Workflow) -> None:
    for i in range(4):
        delivered(workflow, f"L-{i}")
    assert workflow.count(Filter(), NOW) == 4
    assert workflow.count(Filter(), NOW, cap=2) == 3  # "2+"
    assert workflow.count(Filter(), NOW, cap=10) == 4


def test_filters_of_one_shape_share_a_statement_not_their_values(workflow: Workflow) -> None:
    # Given follow-ups of two installers, due a day apart
    first = delivered(workflow, "L-1", due_at=NOW - timedelta(days=2))
    workflow.upsert_lead("L-2", status="assigned", installer_id="I-other")
    other = workflow.create("L-2", by=OPS, due_at=NOW - timedelta(days=1))
    built = queries._find_statement.cache_info().misses
    # When the same shapes are asked with other installers, instants, pages and caps
    by_installer = {
        installer: [f.id for f in workflow.find(Filter(installer_id=installer), NOW)]
        for installer in ("I-7", "I-other", "I-none")
    }
    overdue_then = [f.id for f in workflow.find(Filter(overdue=True), NOW - timedelta(days=1))]
    overdue_now = [f.id for f in workflow.find(Filter(overdue=True), NOW)]
    pages = [[f.id for f in workflow.find(Filter(), NOW, limit=1, after=None)]]
    last = workflow.get(pages[0][0])
    pages.append(
        [f.id for f in workflow.find(Filter(), NOW, limit=1, after=(last.due_at, last.id))]
    )
    capped = [workflow.count(Filter(overdue=True), NOW, cap=cap) for cap in (0, 1, 5)]
    # Then each answer is its own values', from a statement built once per shape
    assert by_installer == {"I-7": [first.id], "I-other": [other.id], "I-none": []}
    assert (overdue_then, overdue_now) == ([first.id], [first.id, other.id])
    assert pages == [[first.id], [other.id]]
    beyond_int4 = (other.due_at, 2**40)  # ids are 64-bit; a cursor may carry a large one
    assert workflow.find(Filter(), NOW, limit=1, after=beyond_int4) == []
    assert capped == [1, 2, 2]
    assert queries._find_statement.cache_info().misses - built <= 4  # installer, overdue, 2 pages
