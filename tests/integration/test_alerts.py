"""Alerts: recorded once per episode, delivered by whichever dispatcher has the channels.

Scans dedupe, reminders count from the last alert, claims lease, and each channel
keeps its own delivery state; on SQLite and PostgreSQL, with a real HTTP server for
Slack and a real SMTP server.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event

from ied_workflow.alerts import deliveries
from ied_workflow.alerts.channels import ConsoleChannel, SlackChannel
from ied_workflow.db import tables
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPEN_ISSUE, OPS, SATISFIED, delivered, reached
from tests.support.database import snapshot
from tests.support.settings import build_settings
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpFactory

HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=2)


def alerts(engine: Engine) -> list[tuple[Any, ...]]:
    return snapshot(engine)["alerts"]


def rows(workflow: Workflow, status: str | None = None) -> list[dict[str, Any]]:
    return workflow.notifications(status, limit=10_000)


def console(workflow: Workflow) -> dict[str, ConsoleChannel]:
    return {"console": ConsoleChannel(io.StringIO())}


# --- recording: one alert per episode, whatever the channels ------------------


def test_scan_records_one_alert_per_overdue_follow_up(workflow: Workflow, engine: Engine) -> None:
    late = [delivered(workflow, f"L-{i}", due_at=NOW - HOUR * i) for i in (1, 2, 3)]
    delivered(workflow, "L-future", due_at=NOW + HOUR)
    assert workflow.scan_overdue(NOW).alerts_written == 3
    recorded = workflow.undelivered_alerts()
    assert sorted(a["follow_up_id"] for a in recorded) == sorted(f.id for f in late)
    assert {a["kind"] for a in recorded} == {"overdue"}
    assert rows(workflow) == []  # no channel chosen yet: that is the dispatcher's call


def test_second_scan_at_the_same_instant_records_nothing(workflow: Workflow) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    assert workflow.scan_overdue(NOW).alerts_written == 1
    assert workflow.scan_overdue(NOW).alerts_written == 0
    assert workflow.scan_overdue(NOW + HOUR).alerts_written == 0  # before the next reminder


def test_scan_never_changes_a_follow_up(workflow: Workflow, engine: Engine) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    domain = ("leads", "follow_ups", "contact_attempts", "events")
    before = snapshot(engine)
    workflow.scan_overdue(NOW)
    after = snapshot(engine)
    assert {name: after[name] for name in domain} == {name: before[name] for name in domain}
    assert len(after["alerts"]) == 1 and len(after["overdue_alerts"]) == 1


def test_reminders_count_from_the_last_alert(workflow: Workflow, engine: Engine) -> None:
    # Given a follow-up that went overdue long ago, alerted for the first time at NOW
    delivered(workflow, due_at=NOW - timedelta(days=10))
    every = timedelta(hours=workflow.settings.overdue_reminder_hours)
    workflow.scan_overdue(NOW)
    # Then the next reminder comes one interval after that alert, and one only
    assert workflow.scan_overdue(NOW + every - HOUR).alerts_written == 0
    assert workflow.scan_overdue(NOW + every).alerts_written == 1
    assert workflow.scan_overdue(NOW + every + HOUR).alerts_written == 0
    keys = sorted(row[3] for row in alerts(engine))
    assert [key.rsplit(":", 1)[1] for key in keys] == ["0", "1"]


def test_changing_the_reminder_interval_alerts_nobody_again_at_once(
    database_url: str, engine: Engine, workflow: Workflow
) -> None:
    # Given overdue follow-ups already alerted with reminders every 24 hours
    for i in range(3):
        delivered(workflow, f"L-{i}", due_at=NOW - timedelta(days=i + 1))
    workflow.scan_overdue(NOW)
    # When the interval changes, however far, and the next scan runs
    for hours in (100_000, 1):
        changed = Workflow(engine, build_settings(database_url, overdue_reminder_hours=hours))
        # Then nobody is alerted before an interval has passed since their last alert
        assert changed.scan_overdue(NOW + timedelta(minutes=30)).alerts_written == 0
    assert changed.scan_overdue(NOW + timedelta(hours=1)).alerts_written == 3


def test_reschedule_starts_a_new_episode(workflow: Workflow) -> None:
    follow_up = delivered(workflow, due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    workflow.reschedule(follow_up.id, due_at=NOW - timedelta(minutes=5), by=OPS, now=NOW)
    assert workflow.scan_overdue(NOW).alerts_written == 1


def test_closed_and_future_follow_ups_are_not_alerted(workflow: Workflow) -> None:
    done = reached(workflow, "L-1")
    workflow.reschedule(done.id, due_at=NOW - HOUR, by=OPS, now=NOW)
    workflow.record_outcome(done.id, by=OPS, outcome=SATISFIED, now=NOW)
    delivered(workflow, "L-2", due_at=NOW)  # due exactly now is not yet overdue
    assert workflow.scan_overdue(NOW).alerts_written == 0


def test_scan_walks_the_overdue_rows_in_batches(database_url: str, engine: Engine) -> None:
    # Given 7 overdue follow-ups due at the same time (ties broken by id), batches of 3
    workflow = Workflow(engine, build_settings(database_url, scan_batch_size=3))
    ids = [delivered(workflow, f"L-{i}", due_at=NOW - HOUR).id for i in range(7)]
    # When one scan runs, each batch's INSERT of alerts watched
    batches: list[tuple[Any, ...]] = []

    def watch(_c: Any, cursor: Any, sql: str, values: Any, context: Any, _many: bool) -> None:
        if "INSERT INTO alerts " in sql:  # named values on the cursor path, or the context's
            named = values if isinstance(values, dict) else context.compiled_parameters[0]
            batches.append((named.get("after_id"), named.get("through_id"), cursor.rowcount))

    event.listen(engine, "after_cursor_execute", watch)
    try:
        result = workflow.scan_overdue(NOW)
    finally:
        event.remove(engine, "after_cursor_execute", watch)
    # Then 3, 3 and 1 alerts, each batch starting after the row the last one ended on
    assert (result.alerts_written, result.batches) == (7, 3)
    assert batches == [(None, ids[2], 3), (ids[2], ids[5], 3), (ids[5], None, 1)]


def test_closed_with_issue_records_an_alert_with_the_outcome(workflow: Workflow) -> None:
    follow_up = reached(workflow)
    workflow.record_outcome(follow_up.id, by=OPS, outcome=OPEN_ISSUE, now=NOW)
    [alert] = workflow.undelivered_alerts()
    assert (alert["kind"], alert["follow_up_id"]) == ("closed_with_issue", follow_up.id)
    assert alert["payload"] == {"issueSummary": "roof still leaks"}


def test_alert_state_lost_still_records_no_double(workflow: Workflow, engine: Engine) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    with engine.begin() as conn:
        conn.execute(tables.overdue_alerts.delete())
    assert workflow.scan_overdue(NOW).alerts_written == 0  # the episode key: no double
    assert len(snapshot(engine)["overdue_alerts"]) == 1  # and the state is rebuilt


def test_digest_is_recorded_once_per_local_day(database_url: str, engine: Engine) -> None:
    workflow = Workflow(engine, build_settings(database_url, ops_timezone="Europe/Paris"))
    delivered(workflow, due_at=NOW - HOUR)
    assert workflow.send_digest(NOW) == 1
    assert workflow.send_digest(NOW + HOUR) == 0
    [alert] = workflow.undelivered_alerts()
    assert alert["payload"] == {
        "due_today": 1,
        "overdue": 1,
        "in_progress": 0,
        "open_issues": 0,
        "failed_alerts": 0,
    }
    assert alert["episode_key"] == "digest:2026-11-25"
    assert workflow.send_digest(NOW + timedelta(hours=9)) == 1  # 00:00 in Paris: a new day


# --- after commit: the use case that recorded an alert asks for a dispatch -------


def test_a_committed_alert_asks_for_one_dispatch_and_a_refusal_asks_for_none(
    database_url: str, engine: Engine
) -> None:
    asked: list[str] = []
    settings = build_settings(database_url)
    workflow = Workflow(engine, settings, dispatch_soon=lambda: asked.append("x"))
    follow_up = reached(workflow)
    assert asked == []  # no alert, no dispatch
    for i in range(2):
        delivered(workflow, f"L-late-{i}", due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    assert asked == ["x"]  # two alerts in one unit of work: one hint
    workflow.scan_overdue(NOW)
    assert asked == ["x"]  # nothing recorded: no hint
    workflow.record_outcome(follow_up.id, by=OPS, outcome=OPEN_ISSUE, now=NOW)
    assert asked == ["x", "x"]


# --- delivery: channels decided by the dispatcher, state per channel ------------


def test_alert_recorded_without_channels_reaches_slack_and_email_once(
    database_url: str,
    engine: Engine,
    slack: FakeSlack,
    smtp_factory: SmtpFactory,
) -> None:
    # Given a closed-with-issue alert recorded by a process with no channel settings
    laptop = Workflow(engine, build_settings(database_url))
    follow_up = reached(laptop)
    laptop.record_outcome(follow_up.id, by=OPS, outcome=OPEN_ISSUE, now=NOW)
    # When a dispatcher configured with Slack and SMTP runs, twice
    smtp = smtp_factory()
    worker = Workflow(
        engine,
        build_settings(
            database_url,
            slack_webhook_url=slack.url,
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            ops_emails=["ops-team@ied.example"],
        ),
    )
    first = worker.dispatch(now=NOW)
    second = worker.dispatch(now=NOW + HOUR)
    # Then Slack and email each received it once
    assert first.sent == {"slack": 1, "email": 1} and second.sent == {}
    assert len(slack.bodies) == 1 and f"#{follow_up.id}" in json.dumps(slack.bodies[0])
    assert len(smtp.emails.all()) == 1
    assert sorted((r["channel"], r["status"]) for r in rows(worker)) == [
        ("email", "sent"),
        ("slack", "sent"),
    ]


def test_console_delivery_does_not_count_for_slack(
    database_url: str,
    engine: Engine,
    slack: FakeSlack,
) -> None:
    # Given an alert printed on a console by a dispatcher without Slack
    follow_up = delivered(Workflow(engine, build_settings(database_url)), due_at=NOW - HOUR)
    laptop = Workflow(engine, build_settings(database_url))
    laptop.scan_overdue(NOW)
    assert laptop.dispatch(console(laptop), now=NOW).sent == {"console": 1}
    # When a dispatcher with Slack runs
    worker = Workflow(engine, build_settings(database_url, slack_webhook_url=slack.url))
    # Then Slack still gets the alert
    assert worker.dispatch(now=NOW + timedelta(minutes=1)).sent == {"slack": 1}
    assert f"#{follow_up.id}" in json.dumps(slack.bodies)


def test_channel_configured_later_takes_only_the_recent_backlog(
    database_url: str, engine: Engine
) -> None:
    # Given one alert recorded two days ago and one an hour ago, never dispatched
    workflow = Workflow(engine, build_settings(database_url, alert_backlog_hours=24))
    old = reached(workflow, "L-old")
    workflow.record_outcome(old.id, by=OPS, outcome=OPEN_ISSUE, now=NOW - timedelta(days=2))
    recent = delivered(workflow, "L-new", due_at=NOW - 2 * HOUR)
    workflow.scan_overdue(NOW - HOUR)
    # When a channel is used for the first time
    stream = io.StringIO()
    result = workflow.dispatch({"console": ConsoleChannel(stream)}, now=NOW)
    # Then only the recent alert goes out; the old one is skipped on that channel
    assert result.sent == {"console": 1}
    assert f"Follow-up #{recent.id}" in stream.getvalue()
    assert f"Follow-up #{old.id}" not in stream.getvalue()


def test_channel_in_use_delivers_everything_after_a_long_outage(
    database_url: str, engine: Engine
) -> None:
    # Given a console channel in use, then no dispatch for three days
    workflow = Workflow(engine, build_settings(database_url, alert_backlog_hours=24))
    workflow.dispatch(console(workflow), now=NOW)
    delivered(workflow, due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    # When the dispatcher comes back
    result = workflow.dispatch(console(workflow), now=NOW + timedelta(days=3))
    # Then the alert of three days ago is still delivered
    assert result.sent == {"console": 1}


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(
    workflow: Workflow,
) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    workflow.run(lambda uow: deliveries.fan_out(uow, "console", backlog=HOUR), now=NOW)

    def claim(at):  # type: ignore[no-untyped-def]
        return workflow.run(
            lambda uow: deliveries.claim(uow, "console", limit=10, lease=LEASE), now=at
        )

    assert len(claim(NOW)) == 1
    assert claim(NOW + LEASE / 2) == []
    [again] = claim(NOW + LEASE * 2)  # the first dispatcher died: the row is sent again
    assert again["attempts"] == 2


def test_dispatch_sends_one_message_per_kind_and_marks_deliveries_sent(
    workflow: Workflow,
) -> None:
    for i in range(3):
        delivered(workflow, f"L-{i}", due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    stream = io.StringIO()
    result = workflow.dispatch({"console": ConsoleChannel(stream)}, now=NOW)
    assert (result.messages, result.sent) == ({"console": 1}, {"console": 3})
    assert stream.getvalue().count("Follow-up #") == 3
    assert [r["status"] for r in rows(workflow)] == ["sent"] * 3
    assert workflow.dispatch({"console": ConsoleChannel(stream)}, now=NOW).sent == {}


def test_slack_429_backs_off_for_retry_after_then_delivers(
    workflow: Workflow,
    slack: FakeSlack,
) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    channels = {"slack": SlackChannel(slack.url, timeout=2)}
    slack.reply(429, "rate_limited", {"Retry-After": "120"})
    assert workflow.dispatch(channels, now=NOW).retrying == {"slack": 1}
    [row] = rows(workflow)
    assert row["status"] == "pending" and row["next_attempt_at"] >= NOW + timedelta(seconds=120)
    assert "429" in row["last_error"] and slack.secret not in row["last_error"]
    assert workflow.dispatch(channels, now=NOW + timedelta(seconds=60)).sent == {}
    assert workflow.dispatch(channels, now=NOW + timedelta(seconds=121)).sent == {"slack": 1}
    assert len(slack.bodies) == 2


def test_permanent_failure_ends_failed_and_retry_sends_it(
    workflow: Workflow,
    slack: FakeSlack,
) -> None:
    delivered(workflow, due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    channels = {"slack": SlackChannel(slack.url, timeout=2)}
    slack.reply(404, "channel_not_found")
    assert workflow.dispatch(channels, now=NOW).failed == {"slack": 1}
    [row] = rows(workflow, "failed")
    assert "channel_not_found" in row["last_error"]
    workflow.retry_notification(row["id"], now=NOW)
    assert workflow.dispatch(channels, now=NOW).sent == {"slack": 1}


def test_transient_failures_end_failed_after_max_attempts(
    database_url: str,
    engine: Engine,
    slack: FakeSlack,
) -> None:
    workflow = Workflow(engine, build_settings(database_url, notify_max_attempts=3))
    delivered(workflow, due_at=NOW - HOUR)
    workflow.scan_overdue(NOW)
    channels = {"slack": SlackChannel(slack.url, timeout=2)}
    for attempt in range(3):
        slack.reply(500, "internal_error")
        workflow.dispatch(channels, now=NOW + timedelta(days=attempt))
    [row] = rows(workflow)
    assert (row["status"], row["attempts"]) == ("failed", 3)
