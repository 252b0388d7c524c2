"""PostgreSQL crashes (`pg_ctl stop -m immediate`) in the middle of a scan and a dispatch.

The scan is caught half-way through its transaction: a row the test inserted and did
not commit holds one of its dedupe keys, so the scan waits there with earlier batches
already written. The dispatcher is caught with a post on the wire. Both tasks must
retry with backoff and finish once PostgreSQL is back, leaving no half-written change.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ied_workflow.domain import FollowUp
from tests.support.data import delivery_rows, duplicates, overdue_follow_ups
from tests.support.deployment import Deploy, alerting
from tests.support.faults import (
    audit_mismatches,
    follow_up_rows,
    record_figures,
    retried_then_succeeded,
)
from tests.support.processes import celery_processes
from tests.support.servers import PrivatePostgres, PrivateRedis
from tests.support.slack import FakeSlack
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ALERTED_FIRST, GOING_OVERDUE = 200, 200
BATCH = 10  # rows per dispatch claim
SCAN_BATCH = 50  # follow-ups per scan statement: the scan takes several inside one transaction
BLOCKED_AT = 120  # the scan writes its batches before this follow-up's key, then waits
OUTAGE = 4  # seconds; longer than the lease, so the interrupted batch is free again after
LEASE = 3
SLACK_DELAY = 0.25  # seconds Slack holds each answer, so the crash lands mid-post


def plain_url(url: str) -> str:
    """The libpq URL of a SQLAlchemy one."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def overdue_key(follow_up: FollowUp) -> str:
    """The episode key of the first overdue alert of `follow_up` (should the product's
    format change, the test fails at once saying the scan never waited on it)."""
    return f"overdue:{follow_up.id}:{int(follow_up.due_at.timestamp())}:0"


@contextlib.contextmanager
def holding_key(url: str, follow_up: FollowUp, key: str) -> Iterator[psycopg.Connection]:
    """An uncommitted alert with `key`: a scan inserting the same key waits for it."""
    conn = psycopg.connect(plain_url(url))
    conn.execute(
        "INSERT INTO alerts (kind, follow_up_id, episode_key, created_at)"
        " VALUES ('overdue', %s, %s, now())",
        (follow_up.id, key),
    )
    try:
        yield conn
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.close()  # dead after the crash; never committed


def scan_waiting(url: str) -> bool:
    """Some backend of this database is waiting on a lock (our held key)."""
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])


def test_tasks_retry_through_a_postgres_crash_and_leave_no_half_written_change(
    private_postgres: PrivatePostgres,
    private_database: str,
    private_redis: PrivateRedis,
    slack: FakeSlack,
    deploy: Deploy,
) -> None:
    # Given follow-ups overdue for a while, and others that have just gone overdue
    slack.delay = SLACK_DELAY
    deployment = deploy(
        private_database,
        private_redis.url,
        notify_batch_size=BATCH,
        notify_lease_seconds=LEASE,
        scan_batch_size=SCAN_BATCH,
        **alerting(slack),
    )
    workflow = deployment.workflow
    now = workflow.now().replace(microsecond=0)  # the database's clock, as the product's
    first = overdue_follow_ups(workflow, ALERTED_FIRST, now - timedelta(hours=2))
    second = overdue_follow_ups(
        workflow, GOING_OVERDUE, now - timedelta(seconds=1), first=ALERTED_FIRST + 1
    )
    follow_ups_before = follow_up_rows(workflow)
    worker = deployment.celery("worker", "--concurrency=2")
    with celery_processes(worker), deployment.broker() as app:
        worker.start().wait_ready()
        # ...the first group alerted by a scan and being dispatched to a slow Slack
        app.send_task("ied.scan_overdue", kwargs={"now": (now - timedelta(seconds=2)).isoformat()})
        slack.wait_for(3, timeout=30)

        # When a second scan is stuck half-way through its transaction
        scan_at = workflow.now()
        held = second[BLOCKED_AT]
        with holding_key(private_database, held, overdue_key(held)):
            app.send_task("ied.scan_overdue", kwargs={"now": scan_at.isoformat()})
            wait_until(lambda: scan_waiting(private_database), 15, "the scan waits on the key")
            # ...and PostgreSQL crashes, with a Slack post on the wire
            private_postgres.crash()
        down_at = time.monotonic()
        slack.delay = 0
        time.sleep(OUTAGE)
        private_postgres.start()
        up_at = time.monotonic()

        # Then the tasks, retried with backoff, finish the job once PostgreSQL is back
        everyone = {f.id for f in first + second}

        def delivered() -> bool:
            rows = delivery_rows(workflow)
            listed = set(slack.follow_up_ids())
            return (
                len(rows) == len(everyone)
                and all(r["status"] == "sent" for r in rows)
                and listed == everyone
            )

        recovered = wait_until(delivered, 40, "every alert sent after the restart", every=0.5)
        log = worker.output()

    # ...the stuck scan by its own retries; the dispatch retried too (the rows it left
    # were sent by whichever dispatch ran first after the restart, the retry or the scan's)
    scans = retried_then_succeeded(log, "ied.scan_overdue")
    assert scans, "the interrupted scan did not retry and then succeed"
    # ...writing every alert of the second group itself: nothing of the attempt that
    # crashed half-way had survived
    (scan_id,) = scans
    finished = next(line for line in log.splitlines() if f"{scan_id}] succeeded in" in line)
    assert f"'alertsWritten': {GOING_OVERDUE}," in finished
    dispatch_retries = sum(
        "Task ied.dispatch_notifications[" in line and "retry: Retry in" in line
        for line in log.splitlines()
    )
    assert dispatch_retries, "the interrupted dispatch did not retry"
    assert "raised unexpected" not in log, "a task gave up"
    # ...and nothing is half-written: one row per follow-up, every key once, follow-ups
    # untouched by the scans, and the audit history agrees with every follow-up
    rows = delivery_rows(workflow)
    assert Counter(r["follow_up_id"] for r in rows) == dict.fromkeys(everyone, 1)
    assert len({(r["episode_key"], r["channel"]) for r in rows}) == len(rows)
    assert follow_up_rows(workflow) == follow_ups_before
    assert audit_mismatches(workflow) == []
    doubled = duplicates(slack.follow_up_ids())
    assert doubled <= 2 * BATCH  # at most a batch in flight per worker child
    countdowns = [
        float(line.split("Retry in ", 1)[1].split("s", 1)[0])
        for line in log.splitlines()
        if "retry: Retry in " in line
    ]
    record_figures(
        "postgres_restart",
        {
            "follow_ups": len(everyone),
            "outage_seconds": round(up_at - down_at, 2),
            "scan_retries_before_success": sorted(scans.values()),
            "dispatch_retries_logged": dispatch_retries,
            "retry_countdowns_seconds": countdowns,
            "seconds_from_postgres_back_to_all_sent": round(recovered, 2),
            "duplicates": doubled,
            "audit_mismatches": 0,
        },
    )
