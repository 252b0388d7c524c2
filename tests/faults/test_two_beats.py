"""Two beats on one Redis (redbeat), plus duplicate ticks: one alert per overdue episode.

redbeat's lock should keep the second beat a standby, but the design does not rely on
it (celery #2856, redbeat #127/#208): the scan is level-triggered and deduplicated, so
the test also fires extra scans of its own, as a beat that lost its lock would.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from tests.support.data import OPS, delivery_rows, overdue_follow_ups
from tests.support.deployment import Deploy, alerting
from tests.support.faults import record_figures
from tests.support.processes import CeleryProcess, celery_processes
from tests.support.servers import PrivateRedis
from tests.support.slack import FakeSlack
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SCAN_EVERY = 2  # seconds
RUN_FOR = 4 * SCAN_EVERY  # at least three scan intervals
OVERDUE, LATER, RESCHEDULED = 6, 4, 2  # overdue at start; overdue mid-run; new episodes


def ticks(beat: CeleryProcess, entry: str) -> int:
    return beat.output().count(f"Sending due task {entry} ")


def test_two_beats_and_duplicate_ticks_alert_each_overdue_episode_exactly_once(
    deploy: Deploy, postgres_database: str, private_redis: PrivateRedis, slack: FakeSlack
) -> None:
    # Given follow-ups overdue now and others that go overdue during the run
    deployment = deploy(
        postgres_database,
        private_redis.url,
        scan_interval_seconds=SCAN_EVERY,
        dispatch_interval_seconds=1,
        **alerting(slack),
    )
    workflow = deployment.workflow
    now = workflow.now()  # the database's clock, which the worker reads
    overdue = overdue_follow_ups(workflow, OVERDUE, now - timedelta(hours=1))
    later = overdue_follow_ups(workflow, LATER, now + timedelta(seconds=5), first=OVERDUE + 1)
    worker = deployment.celery("worker", "--concurrency=2")
    beats = [deployment.celery("beat", log=f"beat{i}.log") for i in (1, 2)]

    # When two beats and a worker run for four scan intervals, a rogue scanner fires an
    # extra scan every second, and two follow-ups are rescheduled (a new episode) mid-run
    with celery_processes(worker, *beats), deployment.broker() as app:
        worker.start().wait_ready()
        for beat in beats:
            beat.start().wait_ready()
        started = time.monotonic()
        rescheduled = False
        extra_scans = 0
        while time.monotonic() - started < RUN_FOR:
            app.send_task("ied.scan_overdue")
            extra_scans += 1
            if not rescheduled and time.monotonic() - started >= RUN_FOR / 2:
                for follow_up in overdue[:RESCHEDULED]:
                    new_due = workflow.now() - timedelta(minutes=1)
                    workflow.reschedule(follow_up.id, due_at=new_due, by=OPS)
                rescheduled = True
            time.sleep(1)
        expected = {f.id: 1 for f in overdue + later} | {f.id: 2 for f in overdue[:RESCHEDULED]}

        def delivered() -> bool:
            rows = delivery_rows(workflow)
            return len(rows) == sum(expected.values()) and all(r["status"] == "sent" for r in rows)

        wait_until(delivered, 20, "every episode's alert sent")
        assert all(p.running() for p in (worker, *beats)), "a process died"
        beat_scans = [ticks(beat, "scan-overdue") for beat in beats]
        scans_run = sum(
            "] succeeded in" in line
            for line in worker.output().splitlines()
            if "Task ied.scan_overdue[" in line
        )

    # Then each follow-up has one outbox row per overdue episode, and Slack listed it that often
    rows = delivery_rows(workflow)
    assert Counter(r["follow_up_id"] for r in rows) == expected
    assert len({r["episode_key"] for r in rows}) == len(rows)
    assert Counter(slack.follow_up_ids()) == expected
    # ...while the scans really did run over and over, from a beat and the rogue scanner
    assert sum(beat_scans) >= RUN_FOR // SCAN_EVERY - 1
    assert min(beat_scans) == 0, f"both beats ticked (redbeat lock not held?): {beat_scans}"
    record_figures(
        "two_beats",
        {
            "scan_interval_seconds": SCAN_EVERY,
            "run_seconds": RUN_FOR,
            "scan_ticks_per_beat": beat_scans,
            "extra_scans_sent": extra_scans,
            "scan_tasks_run": scans_run,
            "episodes": sum(expected.values()),
            "delivery_rows": len(rows),
            "slack_mentions": len(slack.follow_up_ids()),
            "duplicates": len(slack.follow_up_ids()) - sum(expected.values()),
        },
    )
