"""Dashboard filters: status, due today, overdue, issues, installer; lists and counts.

Every filter is one SQL condition, so a list and its count always agree, and each
is served by an index (see `db/tables.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Integer, bindparam, func, literal, select, tuple_

from ied_workflow.db import tables as t
from ied_workflow.db.compiled import CompiledStatement
from ied_workflow.domain import FollowUp, Status
from ied_workflow.validation import enum_value, identifier

fu = t.follow_ups.c
# The columns in FollowUp's field order, so a row maps by position: FollowUp(*row) costs
# a fraction of FollowUp(**row._mapping), which built a mapping and its keys per row.
_FOLLOW_UP = [fu[field.name] for field in fields(FollowUp)]


@dataclass(frozen=True, slots=True)
class Filter:
    """A dashboard filter; fields left at their default do not filter."""

    statuses: Sequence[Status] = ()
    due: bool = False
    overdue: bool = False
    has_issue: bool = False
    open_issue: bool = False
    installer_id: str | None = None
    lead_id: str | None = None
    # No contact logged (nor, without one, started) for this many days: work gone quiet.
    no_contact_days: float | None = None

    @classmethod
    def of(
        cls,
        *,
        statuses: Iterable[Status | str] = (),
        due_today: bool = False,
        overdue: bool = False,
        has_issue: bool = False,
        open_issue: bool = False,
        installer_id: str | None = None,
        lead_id: str | None = None,
        no_contact_days: float | None = None,
    ) -> Filter:
        """The filter an edge's values ask for (CLI options, a query string, a form):
        ids trimmed and checked, a blank one filters nothing."""
        return cls(
            statuses=tuple(enum_value(Status, s, "status") for s in statuses),
            due=due_today,
            overdue=overdue,
            has_issue=has_issue,
            open_issue=open_issue,
            installer_id=_id_or_none(installer_id, "installer id"),
            lead_id=_id_or_none(lead_id, "lead id"),
            no_contact_days=no_contact_days,
        )


def _id_or_none(value: str | None, name: str) -> str | None:
    value = (value or "").strip()
    return identifier(value, name) if value else None


def end_of_today(now: datetime, zone: ZoneInfo) -> datetime:
    """Midnight at the end of `now`'s day in the operations timezone, DST included."""
    local_day = now.astimezone(zone).date()
    return datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)


def conditions(where: Filter) -> list[Any]:
    """The SQL conditions of `where`; `due` means open and due before today ends.

    Instants, installer and lead are named parameters, filled in by `parameters`: every
    filter of one shape (`_shape`) is one statement, built once per process.
    """
    clauses: list[Any] = []
    if where.statuses:
        statuses = [enum_value(Status, s, "status").value for s in where.statuses]
        # Literals (checked enum values), and `=` for one, so SQLite can match a partial
        # index's `status = '...'` (it proves neither a parameter nor `IN ('...')`).
        if len(statuses) == 1:
            clauses.append(fu.status == bindparam("status", statuses[0], literal_execute=True))
        else:
            clauses.append(fu.status.in_(bindparam("statuses", statuses, literal_execute=True)))
    if where.due or where.overdue:
        clauses.append(t.IS_OPEN)
    if where.due:
        clauses.append(fu.due_at < bindparam("end_of_today"))
    if where.overdue:
        clauses.append(fu.due_at < bindparam("now"))
    if where.has_issue or where.open_issue:
        clauses.append(fu.has_issue)  # bare, so the planner matches the partial index
    if where.open_issue:
        clauses.append(~fu.issue_resolved)
    if where.installer_id is not None:
        clauses.append(fu.installer_id == bindparam("installer_id"))
    if where.lead_id is not None:
        clauses.append(fu.lead_id == bindparam("lead_id"))
    if where.no_contact_days is not None:
        last_touch = t.LAST_TOUCH  # the very expression its index is on
        clauses.append(last_touch < bindparam("quiet_since", type_=fu.due_at.type))
    return clauses


def parameters(where: Filter, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """The values of `conditions(where)`'s parameters at `now`."""
    values: dict[str, Any] = {}
    if where.due:
        values["end_of_today"] = end_of_today(now, zone)
    if where.overdue:
        values["now"] = now
    if where.installer_id is not None:
        values["installer_id"] = where.installer_id
    if where.lead_id is not None:
        values["lead_id"] = where.lead_id
    if where.no_contact_days is not None:
        values["quiet_since"] = now - timedelta(days=where.no_contact_days)
    return values


def _shape(where: Filter) -> Filter:
    """`where` with its values replaced by markers: what decides the SQL, not its values.

    The statuses stay, checked: they are literals in the SQL.
    """
    return Filter(
        statuses=tuple(enum_value(Status, s, "status") for s in where.statuses),
        due=where.due,
        overdue=where.overdue,
        has_issue=where.has_issue,
        open_issue=where.open_issue,
        installer_id=None if where.installer_id is None else "",
        lead_id=None if where.lead_id is None else "",
        no_contact_days=None if where.no_contact_days is None else 0.0,
    )


# Building a statement and its cache key per query was a large share of a dashboard's
# CPU; shapes are few (statuses x flags), so keep them, compiled (`db/compiled.py`).
@lru_cache(maxsize=512)
def _find_statement(shape: Filter, keyset: bool) -> CompiledStatement:
    query = (
        select(*_FOLLOW_UP)
        .where(*conditions(shape))
        .order_by(fu.due_at, fu.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    if keyset:
        after = tuple_(
            bindparam("after_due_at", type_=fu.due_at.type), bindparam("after_id", type_=fu.id.type)
        )
        query = query.where(tuple_(fu.due_at, fu.id) > after)
    return CompiledStatement(query)


@lru_cache(maxsize=512)
def _count_statement(shape: Filter, capped: bool) -> CompiledStatement:
    matching = (
        select(literal(1, literal_execute=True)).select_from(t.follow_ups).where(*conditions(shape))
    )
    if capped:
        matching = matching.limit(bindparam("limit", type_=Integer))
    return CompiledStatement(select(func.count()).select_from(matching.subquery()))


def find(
    conn: Connection,
    where: Filter,
    now: datetime,
    zone: ZoneInfo,
    *,
    limit: int = 100,
    offset: int = 0,
    after: tuple[datetime, int] | None = None,
) -> list[FollowUp]:
    """Follow-ups matching `where`, soonest due first.

    `after` is a keyset: the (due_at, id) of the last row of the previous page. Unlike
    an offset, it costs the same on page 1,000 as on page 1 and skips or repeats no
    row when follow-ups are added or closed between pages.
    """
    values = parameters(where, now, zone) | {"limit": limit, "offset": offset}
    if after is not None:
        values |= {"after_due_at": after[0], "after_id": after[1]}
    query = _find_statement(_shape(where), after is not None)
    # one fetchall from the driver, not a fetchone per row (a tenth of the page's CPU)
    return [FollowUp(*row) for row in query.all(conn, values)]


def count(
    conn: Connection, where: Filter, now: datetime, zone: ZoneInfo, *, cap: int | None = None
) -> int:
    """How many follow-ups match; with `cap`, stop counting at cap + 1 ("10,000+").

    Exact counts of history (700,000 completed) cost a scan of that many index
    entries; a dashboard needs to know only that it is "a lot".
    """
    values = parameters(where, now, zone)
    if cap is not None:
        values["limit"] = cap + 1
    query = _count_statement(_shape(where), cap is not None)
    row = query.first(conn, values)
    assert row is not None  # an aggregate has its one row
    return int(row[0])


# Past this a dashboard or list count stops ("10,000+" in the console and the CLI, `capped`
# in the API): an exact count of history (700,000 completed at 1M) costs a scan of it all.
COUNT_CAP = 10_000

DASHBOARD = {
    "pending": Filter(statuses=(Status.PENDING,)),
    "in_progress": Filter(statuses=(Status.IN_PROGRESS,)),
    "completed": Filter(statuses=(Status.COMPLETED,)),
    "closed_with_issue": Filter(statuses=(Status.CLOSED_WITH_ISSUE,)),
    "due_today": Filter(due=True),
    "overdue": Filter(overdue=True),
    "has_issue": Filter(has_issue=True),
    "open_issue": Filter(open_issue=True),
}


def dashboard_counts(
    conn: Connection, now: datetime, zone: ZoneInfo, *, cap: int | None = None
) -> dict[str, int]:
    """The count of every dashboard filter, as the demo, the digest and the console show them."""
    return {name: count(conn, where, now, zone, cap=cap) for name, where in DASHBOARD.items()}
