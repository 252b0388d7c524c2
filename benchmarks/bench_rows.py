"""Follow-ups made for one benchmark run, above the data set's ids, and removed after it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import psycopg

from benchmarks.common import NOW, OPS, libpq_url

BENCH_LEADS = "B-"  # lead ids of rows made by a benchmark, never by the generator


def make_follow_ups(url: str, count: int, *, status: str = "pending") -> list[int]:
    """`count` open follow-ups due in a week (pending, or in_progress with a reached contact)."""
    tag = uuid.uuid4().hex[:8]
    started = NOW if status == "in_progress" else None
    due = NOW + timedelta(days=7)
    with psycopg.connect(libpq_url(url)) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT nextval(pg_get_serial_sequence('follow_ups', 'id')) "
                "FROM generate_series(1, %s)",
                (count,),
            )
        ]
        with conn.cursor().copy(
            "COPY leads (id, status, installer_id, updated_at) FROM STDIN"
        ) as c:
            for fid in ids:
                c.write_row((f"{BENCH_LEADS}{tag}-{fid}", "assigned", "I-bench", NOW))
        columns = (
            "id, lead_id, installer_id, status, due_at, started_at, contact_attempt_count, "
            "reached_customer, issue_resolved, referral_opportunity, created_at, "
            "created_by_email, updated_at, version"
        )
        with conn.cursor().copy(f"COPY follow_ups ({columns}) FROM STDIN") as c:
            for fid in ids:
                c.write_row(_row(fid, tag, status, due, started))
    return ids


def _row(fid: int, tag: str, status: str, due: Any, started: Any) -> tuple[Any, ...]:
    reached = status == "in_progress"
    return (
        fid, f"{BENCH_LEADS}{tag}-{fid}", "I-bench", status, due, started, int(reached),
        reached, False, False, NOW, OPS, NOW, 1,
    )  # fmt: skip


def remove_bench_rows(url: str, size: int) -> None:
    """Delete every row a benchmark added (ids above the data set's `size`)."""
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            "DELETE FROM deliveries WHERE alert_id IN "
            "(SELECT id FROM alerts WHERE follow_up_id > %s)",
            (size,),
        )
        for table in ("alerts", "overdue_alerts", "events", "contact_attempts"):
            conn.execute(f"DELETE FROM {table} WHERE follow_up_id > %s", (size,))  # fixed names
        conn.execute("DELETE FROM follow_ups WHERE id > %s", (size,))
        conn.execute("DELETE FROM leads WHERE id LIKE %s", (f"{BENCH_LEADS}%",))
        conn.execute("SELECT setval(pg_get_serial_sequence('follow_ups', 'id'), %s)", (size,))
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) follow_ups, events, contact_attempts")
