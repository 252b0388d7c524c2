"""The outbox: overdue scans dedupe, reminders, episodes, claims and the dispatcher."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import Engine

from ied_workflow import outbox
from ied_workflow.dispatch import dispatch
from ied_workflow.notify.channels import ConsoleChannel, SlackChannel
from ied_workflow.workflow import Workflow
from tests.integration.test_contract import OPEN_ISSUE, SATISFIED, delivered, reached
from tests.support.data import NOW, OPS
from tests.support.database import snapshot
from tests.support.settings import build_settings
from tests.support.slack import FakeSlack

HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=2)


def scan(workflow: Workflow, now=NOW, channels=("slack", "email"), batch_size=5000):  # type: ignore[no-untyped-def]
    every = timedelta(hours=workflow.settings.overdue_reminder_hours)
    return workflow.transaction(
        lambda c: outbox.scan_overdue(
            c, list(channels), now, reminder_every=every, batch_size=batch_size
        )
    )


def rows(workflow: Workflow, status: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    return workflow.transaction(lambda c: outbox.find(c, status, limit=10_000))


def test_scan_writes_one_alert_per_overdue_follow_up_per_channel(workflow: Workflow) -> None:
    late = [delivered(workflow, f"L-{i}", due_at=NOW - HOUR * i) for i in (1, 2, 3)]
    delivered(workflow, "L-future", due_at=NOW + HOUR)
    assert scan(workflow).alerts_written == 6
    written = rows(workflow)
    assert sorted({r["follow_up_id"] for r in written}) == sorted(f.id for f in late)
    assert sorted(r["channel"] for r in written) == ["email"] * 3 + ["slack"] * 3


def test_second_scan_at_the_same_instant_writes_nothing(workflow: Workflow) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    assert scan(workflow).alerts_written == 2
    assert scan(workflow).alerts_written == 0
    assert scan(workflow, NOW + HOUR).alerts_written == 0  # same reminder window


def test_scan_never_changes_a_follow_up(workflow: Workflow, engine: Engine) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    domain = ("leads", "follow_ups", "contact_attempts", "events")
    before = snapshot(engine)
    scan(workflow)
    after = snapshot(engine)
    assert {name: after[name] for name in domain} == {name: before[name] for name in domain}
    assert len(after["notifications"]) == 2 and len(after["overdue_alerts"]) == 1


def test_one_reminder_per_interval_while_still_overdue(workflow: Workflow) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    every = timedelta(hours=workflow.settings.overdue_reminder_hours)
    scan(workflow)
    assert scan(workflow, NOW + every).alerts_written == 2
    assert scan(workflow, NOW + every + HOUR).alerts_written == 0
    assert len({r["dedupe_key"] for r in rows(workflow)}) == 2


def test_reschedule_starts_a_new_episode(workflow: Workflow) -> None:
    follow_up = delivered(workflow, due_at=NOW - HOUR)
    scan(workflow)
    workflow.reschedule(follow_up.id, due_at=NOW - timedelta(minutes=5), by=OPS)
    assert scan(workflow).alerts_written == 2


def test_closed_and_future_follow_ups_are_not_alerted(workflow: Workflow) -> None:
    done = reached(workflow, "L-1")
    workflow.reschedule(done.id, due_at=NOW - HOUR, by=OPS)
    workflow.record_outcome(done.id, by=OPS, outcome=SATISFIED)
    delivered(workflow, "L-2", due_at=NOW)  # due exactly now is not yet overdue
    assert scan(workflow).alerts_written == 0


def test_scan_walks_the_overdue_rows_in_batches(workflow: Workflow) -> None:
    for i in range(7):
        delivered(workflow, f"L-{i}", due_at=NOW - HOUR)  # same due date: ties broken by id
    result = scan(workflow, channels=("console",), batch_size=3)
    assert (result.alerts_written, result.batches) == (7, 3)


def test_closed_with_issue_queues_an_alert_with_the_outcome(
    database_url: str, engine: Engine
) -> None:
    workflow = Workflow(engine, build_settings(database_url))
    follow_up = reached(workflow)
    workflow.record_outcome(follow_up.id, by=OPS, outcome=OPEN_ISSUE)
    [row] = rows(workflow)
    assert (row["kind"], row["channel"], row["follow_up_id"]) == (
        "closed_with_issue",
        "console",
        follow_up.id,
    )
    assert row["payload"] == {"issueSummary": "roof still leaks"}


def test_a_claimed_row_is_not_claimed_again_until_its_lease_ends(workflow: Workflow) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    scan(workflow, channels=("console",))

    def claim(at):  # type: ignore[no-untyped-def]
        return workflow.transaction(lambda c: outbox.claim(c, "console", at, limit=10, lease=LEASE))

    assert len(claim(NOW)) == 1
    assert claim(NOW + LEASE / 2) == []
    [again] = claim(NOW + LEASE * 2)  # the first dispatcher died: the row is sent again
    assert again["attempts"] == 2


def test_dispatch_sends_one_message_per_kind_and_marks_rows_sent(database_url: str) -> None:
    workflow = Workflow.from_settings(build_settings(database_url))
    for i in range(3):
        delivered(workflow, f"L-{i}", due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    stream = io.StringIO()
    result = dispatch(workflow, {"console": ConsoleChannel(stream)}, NOW)
    assert (result.messages, result.sent) == ({"console": 1}, {"console": 3})
    assert stream.getvalue().count("Follow-up #") == 3
    assert [r["status"] for r in rows(workflow)] == ["sent"] * 3
    assert dispatch(workflow, {"console": ConsoleChannel(stream)}, NOW).sent == {}
    workflow.engine.dispose()


def test_slack_429_backs_off_for_retry_after_then_delivers(
    workflow: Workflow,
    slack: FakeSlack,
) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    scan(workflow, channels=("slack",))
    channels = {"slack": SlackChannel(slack.url, timeout=2)}
    slack.reply(429, "rate_limited", {"Retry-After": "120"})
    assert dispatch(workflow, channels, NOW).retrying == {"slack": 1}
    [row] = rows(workflow)
    assert row["status"] == "pending" and row["next_attempt_at"] >= NOW + timedelta(seconds=120)
    assert "429" in row["last_error"] and slack.secret not in row["last_error"]
    assert dispatch(workflow, channels, NOW + timedelta(seconds=60)).sent == {}
    assert dispatch(workflow, channels, NOW + timedelta(seconds=121)).sent == {"slack": 1}
    assert len(slack.bodies) == 2


def test_permanent_failure_ends_failed_and_retry_sends_it(
    workflow: Workflow,
    slack: FakeSlack,
) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    scan(workflow, channels=("slack",))
    channels = {"slack": SlackChannel(slack.url, timeout=2)}
    slack.reply(404, "channel_not_found")
    assert dispatch(workflow, channels, NOW).failed == {"slack": 1}
    [row] = rows(workflow, "failed")
    assert "channel_not_found" in row["last_error"]
    workflow.transaction(lambda c: outbox.retry(c, row["id"], NOW))
    assert dispatch(workflow, channels, NOW).sent == {"slack": 1}


def test_transient_failures_end_failed_after_max_attempts(
    database_url: str,
    engine: Engine,
    slack: FakeSlack,
) -> None:
    workflow = Workflow(engine, build_settings(database_url, notify_max_attempts=3))
    delivered(workflow, due_at=NOW - HOUR)
    scan(workflow, channels=("slack",))
    channels = {"slack": SlackChannel(slack.url, timeout=2)}
    for attempt in range(3):
        slack.reply(500, "internal_error")
        dispatch(workflow, channels, NOW + timedelta(days=attempt))
    [row] = rows(workflow)
    assert (row["status"], row["attempts"]) == ("failed", 3)


def test_digest_is_queued_once_per_local_day(database_url: str, engine: Engine) -> None:
    workflow = Workflow(engine, build_settings(database_url, ops_timezone="Europe/Paris"))
    delivered(workflow, due_at=NOW - HOUR)
    assert workflow.send_digest(NOW) == 1
    assert workflow.send_digest(NOW + HOUR) == 0
    [row] = rows(workflow)
    assert row["payload"] == {"due_today": 1, "overdue": 1, "in_progress": 0, "open_issues": 0}
    assert row["dedupe_key"] == "digest:2026-11-25"
    assert workflow.send_digest(NOW + timedelta(hours=9)) == 1  # 00:00 in Paris: a new day


def test_outbox_keys_still_guard_when_the_alert_state_is_lost(
    workflow: Workflow, engine: Engine
) -> None:
    from ied_workflow import tables

    delivered(workflow, due_at=NOW - HOUR)
    scan(workflow)
    with engine.begin() as conn:
        conn.execute(tables.overdue_alerts.delete())
    assert scan(workflow).alerts_written == 0  # the outbox's unique key: no double
    assert len(snapshot(engine)["overdue_alerts"]) == 1  # and the state is rebuilt
