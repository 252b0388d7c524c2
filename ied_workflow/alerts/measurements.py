"""Counters and last values that workers record and /metrics reads, in the database.

A worker-side Prometheus exporter would hold them in one process's memory (a Celery
prefork pool has several, and replicas more), so each write is an upsert here instead:
counters add, last values replace. One row per (name, label); the write joins the
transaction of the work it measures, or follows it in a short one of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ied_workflow.db import tables as t
from ied_workflow.db.dialects import insert_of
from ied_workflow.db.unit_of_work import UnitOfWork

m = t.measurements.c

DELIVERIES_SENT = "deliveries_sent"
DELIVERIES_RETRIED = "deliveries_retried"
DELIVERIES_FAILED = "deliveries_failed"
SCANS = "scans"
SCAN_SECONDS = "scan_seconds"  # the sum of every scan's duration
SCAN_LAST_SECONDS = "scan_last_seconds"
SCAN_LAST_ALERTS = "scan_last_alerts"
SCAN_LAST_AT = "scan_last_at"  # Unix time: Prometheus can alert when scans stop


def add(uow: UnitOfWork, counts: Mapping[tuple[str, str], float]) -> None:
    """Add each amount to its counter (name, label); zeros write nothing."""
    _upsert(uow, {key: amount for key, amount in counts.items() if amount}, adding=True)


def set_values(uow: UnitOfWork, values: Mapping[tuple[str, str], float]) -> None:
    """Replace each last value (name, label)."""
    _upsert(uow, values, adding=False)


def _upsert(uow: UnitOfWork, values: Mapping[tuple[str, str], float], *, adding: bool) -> None:
    if not values:
        return
    rows = [
        {"name": name, "label": label, "value": float(value), "updated_at": uow.now}
        for (name, label), value in sorted(values.items())  # one lock order for every writer
    ]
    uow.conn.execute(_upsert_statement(uow.conn.dialect.name, adding), rows)


@functools.cache
def _upsert_statement(dialect: str, adding: bool) -> Any:
    """Built once per dialect: a scan records its figures every few seconds."""
    statement = insert_of(dialect)(t.measurements)
    new = statement.excluded
    value = m.value + new.value if adding else new.value
    return statement.on_conflict_do_update(
        index_elements=["name", "label"], set_={"value": value, "updated_at": new.updated_at}
    )


def read(uow: UnitOfWork) -> dict[tuple[str, str], float]:
    """Every measurement, by (name, label)."""
    query = select(m.name, m.label, m.value)
    return {(name, label): value for name, label, value in uow.conn.execute(query)}


def record_scan(uow: UnitOfWork, alerts_written: int, seconds: float) -> None:
    """One overdue scan: its count and time, and the last one's figures."""
    add(uow, {(SCANS, ""): 1, (SCAN_SECONDS, ""): seconds})
    set_values(
        uow,
        {
            (SCAN_LAST_SECONDS, ""): seconds,
            (SCAN_LAST_ALERTS, ""): alerts_written,
            (SCAN_LAST_AT, ""): uow.now.timestamp(),
        },
    )
