"""Build a benchmark data set in PostgreSQL with COPY: N follow-ups, exactly K overdue.

    python -m benchmarks.generate [--size 1000000] [--overdue 10000] [--database ied_bench_1m]

Rows are spread over the table the way years of use would leave them: the overdue
ones are evenly scattered among completed, closed_with_issue and open-but-due-later
ones. Everything is relative to the fixed instant benchmarks.common.NOW, and the
data set records its shape in a table comment so a later run can reuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg

from benchmarks.common import NOW, OPS, ensure_database, libpq_url
from ied_workflow.db import migrate
from ied_workflow.db.tables import metadata

INSTALLERS = 2000
SEED = 20261125
FORMAT = 1  # bump when the generated shape changes, so old data sets are rebuilt
FOLLOW_UP_COLUMNS = (
    "id, lead_id, installer_id, status, due_at, started_at, completed_at, contact_attempt_count, "
    "last_contacted_at, last_contacted_by_email, last_contact_outcome, reached_customer, "
    "satisfaction_outcome, has_issue, issue_summary, issue_resolved, referral_opportunity, "
    "notes, created_at, created_by_email, updated_at, version"
)
SATISFACTION = ("satisfied", "satisfied", "satisfied", "mixed", "unsatisfied")


def shape(size: int, overdue: int) -> dict[str, Any]:
    """What a data set of this size holds; stored with it and compared on reuse."""
    return {"format": FORMAT, "size": size, "overdue": overdue, "now": NOW.isoformat()}


def existing_shape(url: str) -> dict[str, Any] | None:
    """The shape recorded by an earlier generate(), or None."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT obj_description(to_regclass('follow_ups'), 'pg_class')"
        ).fetchone()
    try:
        return dict(json.loads(row[0])["ied_bench"]) if row and row[0] else None
    except (ValueError, KeyError, TypeError):
        return None


def ensure(name: str, size: int, overdue: int = 10_000) -> tuple[str, bool]:
    """The URL of database `name` holding the data set; (url, True) when built now."""
    url = ensure_database(name)
    migrate.upgrade(url)
    if existing_shape(url) == shape(size, overdue):
        return url, False
    generate(url, size, overdue)
    return url, True


def generate(url: str, size: int, overdue: int = 10_000) -> None:
    """Empty the product tables of `url` and load `size` follow-ups, `overdue` of them overdue."""
    if not 0 < overdue <= size:
        raise ValueError("need 0 < overdue <= size")
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")  # our fixed table names
        conn.execute("SET maintenance_work_mem = '256MB'")
        # Foreign keys hold by construction; replica mode skips their per-row triggers.
        conn.execute("SET session_replication_role = replica")
        indexes = _drop_plain_indexes(conn)
        _copy(conn, size, overdue)
        for definition in indexes:
            conn.execute(definition)
        conn.execute("SELECT setval(pg_get_serial_sequence('follow_ups', 'id'), %s)", (size,))
        marker = json.dumps({"ied_bench": shape(size, overdue)})
        conn.execute(f"COMMENT ON TABLE follow_ups IS '{marker}'")  # our JSON, no quotes
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) leads, follow_ups")  # visibility map: index-only scans


def _drop_plain_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop follow_ups' secondary indexes (rebuilt after the load, much faster)."""
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE tablename = 'follow_ups' AND indexname LIKE 'ix\\_%'"
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def _copy(conn: psycopg.Connection[Any], size: int, overdue: int) -> None:
    rng = random.Random(SEED)
    late = {k * size // overdue for k in range(overdue)}
    with conn.cursor().copy("COPY leads (id, status, installer_id, updated_at) FROM STDIN") as copy:
        for i in range(1, size + 1):
            copy.write_row((f"L-{i}", "assigned", f"I-{i % INSTALLERS}", NOW))
    with conn.cursor().copy(f"COPY follow_ups ({FOLLOW_UP_COLUMNS}) FROM STDIN") as copy:
        for row in _follow_up_rows(rng, size, late):
            copy.write_row(row)


def _follow_up_rows(rng: random.Random, size: int, late: set[int]) -> Iterator[tuple[Any, ...]]:
    for i in range(size):
        kind = "overdue" if i in late else _other_kind(rng.random())
        yield _row(rng, i + 1, kind)


def _other_kind(draw: float) -> str:
    if draw < 0.2:
        return "later"
    return "completed" if draw < 0.9 else "closed_with_issue"


def _row(rng: random.Random, fid: int, kind: str) -> tuple[Any, ...]:
    """One follow-up row in FOLLOW_UP_COLUMNS order."""
    minutes = rng.randint(1, 60 * 24 * 30)
    if kind in ("overdue", "later"):
        due = (
            NOW - timedelta(minutes=minutes)
            if kind == "overdue"
            else NOW + timedelta(minutes=minutes)
        )
        created = due - timedelta(days=3)
        started = created + timedelta(hours=2) if rng.random() < 0.4 else None
        status = "in_progress" if started else "pending"
        return _open_row(fid, status, due, created, started)
    created = NOW - timedelta(days=30 + rng.random() * 700)
    return _closed_row(rng, fid, kind, created)


def _open_row(fid: int, status: str, due: Any, created: Any, started: Any) -> tuple[Any, ...]:
    contact = (started, OPS, "no_response") if started else (None, None, None)
    return (
        fid, f"L-{fid}", f"I-{fid % INSTALLERS}", status, due, started, None, int(bool(started)),
        *contact, False, None, None, None, False, False, None, created, OPS,
        started or created, 2 if started else 1,
    )  # fmt: skip


def _closed_row(rng: random.Random, fid: int, kind: str, created: Any) -> tuple[Any, ...]:
    started = created + timedelta(hours=rng.randint(1, 48))
    contacted = started + timedelta(hours=rng.randint(1, 48))
    completed = contacted + timedelta(minutes=rng.randint(5, 600))
    has_issue = kind == "closed_with_issue" or rng.random() < 0.05
    resolved = has_issue and (kind == "completed" or rng.random() < 0.3)
    summary = f"customer reports problem #{fid}" if has_issue else None
    satisfaction = SATISFACTION[rng.randrange(5)] if kind == "completed" else None
    return (
        fid, f"L-{fid}", f"I-{fid % INSTALLERS}", kind, created + timedelta(days=3), started,
        completed, rng.randint(1, 3), contacted, OPS, "reached_customer", True, satisfaction,
        has_issue, summary, resolved, rng.random() < 0.1, None, created, OPS, completed, 4,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=10_000)
    parser.add_argument("--database", help="default: ied_bench_<size>")
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args()
    name = args.database or database_name(args.size)
    if args.force:
        url = ensure_database(name)
        migrate.upgrade(url)
        generate(url, args.size, args.overdue)
        print(f"built {name}")
        return
    _, built = ensure(name, args.size, args.overdue)
    print(f"{'built' if built else 'reused'} {name}")


def database_name(size: int) -> str:
    """ied_bench_1m, ied_bench_100k, or ied_bench_<n>.

    IED_BENCH_DB_PREFIX (default ied_bench) gives concurrent runs their own databases.
    """
    prefix = os.environ.get("IED_BENCH_DB_PREFIX", "ied_bench")
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if size % unit == 0:
            return f"{prefix}_{size // unit}{suffix}"
    return f"{prefix}_{size}"


if __name__ == "__main__":
    main()
