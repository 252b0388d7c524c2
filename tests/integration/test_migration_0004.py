"""Migration 0004: a database written by schema 0003 upgrades with nothing lost.

Notifications (one row per alert and channel) become alerts and per-channel deliveries;
`overdue_alerts` keys become episodes. Every follow-up, contact, event and note stays
as it was, the audit replays clean, and no alert already sent is sent again.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ied_workflow.db import migrate, tables
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPS
from tests.support.settings import build_settings
from tests.support.shared_servers import scratch_postgres_database
from tests.support.slack import FakeSlack

HISTORY = ("leads", "follow_ups", "contact_attempts", "events")
OVERDUE_DUE = NOW - timedelta(hours=3)
ALERTED = NOW - timedelta(hours=2)

notifications_0003 = sa.table(
    "notifications",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("channel", sa.String),
    sa.column("follow_up_id", sa.Integer),
    sa.column("dedupe_key", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", tables.UTCDateTime()),
    sa.column("claimed_until", tables.UTCDateTime()),
    sa.column("last_error", sa.Text),
    sa.column("created_at", tables.UTCDateTime()),
    sa.column("sent_at", tables.UTCDateTime()),
)
overdue_alerts_0003 = sa.table(
    "overdue_alerts", sa.column("follow_up_id", sa.Integer), sa.column("alert_key", sa.String)
)


@pytest.fixture(params=["sqlite", "postgres"])
def url_at_0003(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database migrated to 0003, the schema before alerts and deliveries."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        migrate.upgrade(url, "0003")
        yield url
        return
    with scratch_postgres_database() as url:
        migrate.upgrade(url, "0003")
        yield url


def history(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables 0004 must not touch."""
    with engine.connect() as conn:
        return {
            name: [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key))]
            for name, table in ((n, tables.metadata.tables[n]) for n in HISTORY)
        }


def written_by_0003(workflow: Workflow) -> dict[str, int]:
    """Follow-ups with history, and outbox rows as release 0003 wrote them."""
    for lead in ("L-late", "L-issue", "L-done"):
        workflow.upsert_lead(lead, status="assigned", installer_id="I-1", now=NOW)
    late = workflow.create("L-late", by=OPS, due_at=OVERDUE_DUE, notes="first", now=NOW)
    workflow.add_note(late.id, text="second", by=OPS, now=NOW)
    issue = workflow.create("L-issue", by=OPS, now=NOW)
    workflow.log_contact(issue.id, by=OPS, outcome="left_message", note="voicemail", now=NOW)
    done = workflow.create("L-done", by=OPS, now=NOW)
    workflow.log_contact(done.id, by=OPS, outcome="reached_customer", now=NOW)
    satisfied = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)
    workflow.record_outcome(done.id, by=OPS, outcome=satisfied, now=NOW)
    overdue_key = f"overdue:{late.id}:{int(OVERDUE_DUE.timestamp())}:0"
    row: dict[str, Any] = {"payload": None, "claimed_until": None, "last_error": None}
    rows = [
        row | {"id": 1, "kind": "overdue", "channel": "slack", "follow_up_id": late.id,
               "dedupe_key": overdue_key, "status": "sent", "attempts": 1,
               "next_attempt_at": ALERTED, "created_at": ALERTED, "sent_at": ALERTED},
        row | {"id": 2, "kind": "overdue", "channel": "email", "follow_up_id": late.id,
               "dedupe_key": overdue_key, "status": "failed", "attempts": 8,
               "next_attempt_at": ALERTED, "created_at": ALERTED, "sent_at": None,
               "last_error": "SMTPRecipientsRefused"},
        row | {"id": 3, "kind": "closed_with_issue", "channel": "console",
               "follow_up_id": issue.id, "dedupe_key": f"closed_with_issue:{issue.id}",
               "payload": {"issueSummary": "broken panel"}, "status": "pending", "attempts": 0,
               "next_attempt_at": NOW, "created_at": NOW - timedelta(minutes=30),
               "sent_at": None},
    ]  # fmt: skip
    with workflow.engine.begin() as conn:
        conn.execute(notifications_0003.insert(), rows)
        conn.execute(
            overdue_alerts_0003.insert(), {"follow_up_id": late.id, "alert_key": overdue_key}
        )
    return {"late": late.id, "issue": issue.id}


def test_upgrade_keeps_history_and_sends_nothing_twice(
    url_at_0003: str,
    slack: FakeSlack,
) -> None:
    # Given a database written by release 0003
    old = Workflow.from_settings(build_settings(url_at_0003))
    ids = written_by_0003(old)
    before = history(old.engine)
    old.engine.dispose()

    # When it is upgraded
    migrate.upgrade(url_at_0003)
    workflow = Workflow.from_settings(build_settings(url_at_0003, slack_webhook_url=slack.url))

    # Then every follow-up, contact, event and note is intact, and the audit replays clean
    assert history(workflow.engine) == before
    assert workflow.get(ids["late"]).notes == "first\nsecond"
    assert workflow.audit() == []
    # and each alert is one row with its deliveries, ids and states kept
    by_id = {row["id"]: row for row in workflow.notifications()}
    assert {i: (r["channel"], r["status"], r["attempts"]) for i, r in by_id.items()} == {
        1: ("slack", "sent", 1),
        2: ("email", "failed", 8),
        3: ("console", "pending", 0),
    }
    assert by_id[1]["alert_id"] == by_id[2]["alert_id"] != by_id[3]["alert_id"]
    assert by_id[2]["last_error"] == "SMTPRecipientsRefused"
    assert by_id[3]["payload"] == {"issueSummary": "broken panel"}

    # When a dispatcher with Slack runs, and the scan runs again before a reminder is due
    result = workflow.dispatch(now=NOW)
    rescan = workflow.scan_overdue(ALERTED + timedelta(hours=23))

    # Then the alert stranded on the console reaches Slack, the one Slack had is not resent
    assert result.sent == {"slack": 1}
    posted = json.dumps(slack.bodies)
    assert f"Follow-up #{ids['issue']}" in posted and f"Follow-up #{ids['late']}" not in posted
    assert rescan.alerts_written == 0
    # and the next reminder counts from the alert sent before the upgrade
    assert workflow.scan_overdue(ALERTED + timedelta(hours=24)).alerts_written == 1
    workflow.engine.dispose()


def test_downgrade_below_0004_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    migrate.upgrade(url)
    copy = tmp_path / "copy.db"
    shutil.copy(tmp_path / "new.db", copy)
    from alembic import command

    with pytest.raises(NotImplementedError, match="cannot be undone"):
        command.downgrade(migrate.alembic_config(url), "0003")
    assert (tmp_path / "new.db").read_bytes() == copy.read_bytes()  # nothing changed
