"""Redis (the broker and redbeat's store) crashes and comes back empty during a run.

The crash lands while the worker is running a dispatch task (late ack: its message is
still unacknowledged), the worst moment. Follow-ups go overdue while Redis is down;
their alerts must arrive after it returns, once each.

The first test asks for the requirement as written, no hand on either process; the
second runs them under a restart policy (docker-compose's `restart: unless-stopped`)
and measures how long recovery takes that way.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest

from ied_workflow.workflow import Workflow
from tests.support.data import delivery_rows, overdue_follow_ups
from tests.support.deployment import Deploy, alerting
from tests.support.faults import record_figures
from tests.support.processes import CeleryProcess, Supervisor, celery_processes
from tests.support.servers import PrivateRedis
from tests.support.slack import FakeSlack
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SCAN_EVERY = 2  # seconds
OUTAGE = 4  # seconds Redis stays down
BEFORE, DURING = 5, 5  # follow-ups overdue before the outage, and going overdue in it
RECOVERY_BOUND = 30  # seconds after Redis returns for the new alerts to arrive
LEASE = 3  # seconds; a dispatch cut off by the crash leaves its batch leased this long


@dataclass
class Run:
    """What a run through the outage saw."""

    before: set[int]
    during: set[int]
    outage: float
    recovered: float | None  # seconds from Redis back to the last new alert; None: never
    posts_in_outage: int


@pytest.fixture
def stack(
    deploy: Deploy, postgres_database: str, private_redis: PrivateRedis, slack: FakeSlack
) -> tuple[Workflow, CeleryProcess, CeleryProcess]:
    """A worker and a beat (scan every 2 s, dispatch every 1 s) on the private Redis."""
    deployment = deploy(
        postgres_database,
        private_redis.url,
        scan_interval_seconds=SCAN_EVERY,
        dispatch_interval_seconds=1,
        notify_lease_seconds=LEASE,
        **alerting(slack),
    )
    worker = deployment.celery("worker", "--concurrency=2")
    return deployment.workflow, worker, deployment.celery("beat")


def through_an_outage(
    workflow: Workflow,
    redis: PrivateRedis,
    slack: FakeSlack,
    worker: CeleryProcess,
    beat: CeleryProcess,
    supervised: Supervisor | None = None,
) -> Run:
    """Start, alert, crash Redis mid-dispatch, let follow-ups go overdue, bring Redis back."""
    an_hour_ago = workflow.now() - timedelta(hours=1)
    before = {f.id for f in overdue_follow_ups(workflow, BEFORE, an_hour_ago)}
    slack.delay = 2  # hold the first post, so the dispatch task is running at the crash
    worker.start().wait_ready()
    beat.start().wait_ready()
    slack.posts.wait_for(1, timeout=20)

    redis.kill()
    down_at = time.monotonic()
    slack.delay = 0
    soon = workflow.now() + timedelta(seconds=1)
    during = {f.id for f in overdue_follow_ups(workflow, DURING, soon, first=BEFORE + 1)}
    time.sleep(OUTAGE)
    posts_in_outage = len(slack.posts.all()) - 1
    redis.start()
    up_at = time.monotonic()

    def alerted() -> bool:
        return during <= set(slack.follow_up_ids())

    def sent() -> bool:  # the batch cut off by the crash goes again once its lease is up
        return {r["status"] for r in delivery_rows(workflow)} == {"sent"}

    def gone() -> bool:  # unsupervised, a dead process stays dead: no use waiting
        return supervised is None and not (worker.running() and beat.running())

    waited = wait_until(lambda: alerted() or gone(), RECOVERY_BOUND, "alerts after the outage")
    recovered = waited if alerted() else None
    wait_until(lambda: sent() or gone(), RECOVERY_BOUND, "every outbox row sent")
    return Run(before, during, up_at - down_at, recovered, posts_in_outage)


def assert_each_alerted_once_or_in_flight(run: Run, workflow: Workflow, slack: FakeSlack) -> int:
    """One outbox row per follow-up; Slack saw each, repeats only from the batch in flight."""
    everyone = run.before | run.during
    rows = delivery_rows(workflow)
    assert Counter(r["follow_up_id"] for r in rows) == dict.fromkeys(everyone, 1)
    assert {r["status"] for r in rows} == {"sent"}
    listed = Counter(slack.follow_up_ids())
    assert set(listed) == everyone
    repeats = sum(listed.values()) - len(listed)
    assert repeats <= BEFORE  # only the batch in flight at the crash may go twice
    return repeats


def test_worker_and_beat_recover_from_a_redis_restart_with_no_hand_on_them(
    stack: tuple[Workflow, CeleryProcess, CeleryProcess],
    private_redis: PrivateRedis,
    slack: FakeSlack,
) -> None:
    # Given a worker and a beat, left alone (no supervisor) through a Redis crash
    workflow, worker, beat = stack
    with celery_processes(worker, beat):
        run = through_an_outage(workflow, private_redis, slack, worker, beat)
        died = {p.role: p.fatal_lines() for p in (worker, beat) if not p.running()}

    record_figures(
        "redis_restart_unsupervised",
        {
            "outage_seconds": round(run.outage, 2),
            "died": sorted(died),
            "why": {role: lines[:1] for role, lines in died.items()},
            "seconds_from_redis_back_to_alerts": run.recovered and round(run.recovered, 2),
        },
    )

    # Then both are still running, and what went overdue meanwhile was alerted after it
    assert not died, f"died with Redis, no one to restart them: {died}"
    assert run.recovered is not None, "no alert for the follow-ups that went overdue"
    assert run.posts_in_outage == 0
    assert_each_alerted_once_or_in_flight(run, workflow, slack)


def test_supervised_worker_and_beat_alert_what_went_overdue_during_a_redis_restart(
    stack: tuple[Workflow, CeleryProcess, CeleryProcess],
    private_redis: PrivateRedis,
    slack: FakeSlack,
) -> None:
    # Given a worker and a beat under a restart policy, like docker-compose's
    workflow, worker, beat = stack
    with celery_processes(worker, beat), Supervisor(worker, beat) as supervisor:
        # When Redis crashes mid-dispatch, follow-ups go overdue, and Redis returns
        run = through_an_outage(workflow, private_redis, slack, worker, beat, supervisor)

    # Then the follow-ups that went overdue in the outage are alerted after it, once each
    assert run.recovered is not None, "no alert for the follow-ups that went overdue"
    assert run.posts_in_outage == 0
    repeats = assert_each_alerted_once_or_in_flight(run, workflow, slack)
    record_figures(
        "redis_restart_supervised",
        {
            "scan_interval_seconds": SCAN_EVERY,
            "outage_seconds": round(run.outage, 2),
            "seconds_from_redis_back_to_alerts": round(run.recovered, 2),
            "alerts_after_outage": len(run.during),
            "duplicates": repeats,
            "worker_restarts": supervisor.restarts["worker"],
            "beat_restarts": supervisor.restarts["beat"],
        },
    )
