"""The Celery app, built from settings; every Celery setting sits here with its reason.

Redis delivers at least once and PostgreSQL is the source of truth: a task message
is only a hint to run now. Outbox rows, dedupe keys and leases make the work itself
safe to repeat, so every setting below chooses "run again" over "lose".
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import after_setup_logger, after_setup_task_logger

from config import logs
from config.settings import Settings, get_settings

TASK_TIME_LIMIT = 600  # seconds; a scan of a million rows takes a few
VISIBILITY_TIMEOUT = 3600  # must exceed every time limit and countdown, or Redis redelivers
# The worker's command-line options (docker-compose.yml and the README say the same).
# Gossip, mingle and heartbeat events are worker-to-worker chatter that nothing here reads:
# `inspect ping` (the health check) goes through the control mailbox, tasks are never
# revoked, and no monitor consumes events. Gossip would also wake this worker for every
# heartbeat of every other worker on the broker, so idle CPU grows with the fleet.
WORKER_OPTIONS = ("--without-gossip", "--without-mingle", "--without-heartbeat")


class IedCelery(Celery):  # type: ignore[misc]
    """Celery whose `celery report` masks every URL's password (redbeat_redis_url too).

    Celery censors only the keys it knows (broker_url, result backends, *PASS*, ...).
    """

    def bugreport(self) -> str:
        return logs.mask_urls(str(super().bugreport()))


@after_setup_logger.connect
@after_setup_task_logger.connect
def _adopt_logs(logger: logging.Logger, **_: Any) -> None:
    """Worker and beat logs: IED_LOG_LEVEL, IED_LOG_FORMAT, and no secret in any line."""
    logs.adopt(logger, get_settings())


def make_app(settings: Settings | None = None) -> Celery:
    """A Celery app for `settings`; tests build their own with another Redis database."""
    settings = settings or get_settings()
    app = IedCelery("ied_workflow")
    app.conf.update(
        broker_url=settings.redis_url,
        broker_connection_retry_on_startup=True,  # wait for Redis instead of dying
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_ignore_result=True,  # results live in the database, not in Redis
        result_expires=None,  # ...so beat needs no backend_cleanup task
        task_acks_late=True,  # ack after the task ran: a crash means a redelivery
        task_reject_on_worker_lost=True,  # ...even when the worker child was SIGKILLed
        worker_prefetch_multiplier=1,  # a dying worker holds at most one message
        worker_send_task_events=False,  # Celery's default, said here: no monitor reads them
        task_time_limit=TASK_TIME_LIMIT,
        task_soft_time_limit=TASK_TIME_LIMIT - 30,
        # Let a running dispatch finish when Redis goes away: its rows are leased in
        # PostgreSQL, and cancelling it would resend a batch that already went out.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_default_queue=settings.celery_queue,
        timezone=settings.ops_timezone,  # crontab entries read in operations time
        enable_utc=True,
        # redbeat: one active beat among replicas; ours also survives Redis restarts.
        beat_scheduler="config.beat:ResilientRedBeatScheduler",
        redbeat_redis_url=settings.redis_url,
        redbeat_key_prefix=settings.redbeat_key_prefix,
        # Beat keeps retrying a lost Redis (redbeat's retry wrapper) instead of dying,
        # and a dead server cannot hang it: connects and reads time out.
        redbeat_redis_options={
            "retry_period": -1,
            "socket_connect_timeout": 5,
            "socket_timeout": 10,
        },
        redbeat_lock_timeout=max(60, 5 * settings.dispatch_interval_seconds),
        beat_max_loop_interval=min(settings.dispatch_interval_seconds, 30),
        beat_schedule=beat_schedule(settings),
        imports=("workers.tasks",),
    )
    return app


def beat_schedule(settings: Settings) -> dict[str, dict[str, object]]:
    """Periodic tasks; each is level-triggered, so a missed or doubled tick is harmless."""
    digest = settings.digest_at
    return {
        "scan-overdue": {
            "task": "ied.scan_overdue",
            "schedule": timedelta(seconds=settings.scan_interval_seconds),
        },
        "dispatch-notifications": {
            "task": "ied.dispatch_notifications",
            "schedule": timedelta(seconds=settings.dispatch_interval_seconds),
        },
        "send-digest": {
            "task": "ied.send_digest",
            "schedule": crontab(hour=str(digest.hour), minute=str(digest.minute)),
        },
    }


app = make_app()
