"""The contract's invariants, read from the database: the oracle several tests share.

`violations(conn)` returns one readable line per broken rule, so a failing test says which
follow-up broke which rule. `history.verify` is part of it: the row must agree with its history.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from ied_workflow.db import tables as t
from ied_workflow.follow_ups import history

OPEN = ("pending", "in_progress")
TERMINAL = ("completed", "closed_with_issue")
# Events that may follow the outcome: they keep the (terminal) status as it is.
AFTER_OUTCOME = ("note_added", "issue_resolved")


def read_all(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as mappings, in primary-key order."""
    return {
        table.name: [
            dict(row._mapping) for row in conn.execute(select(table).order_by(*table.primary_key))
        ]
        for table in t.metadata.sorted_tables
    }


def violations(conn: Connection, rows: dict[str, list[dict[str, Any]]] | None = None) -> list[str]:
    """Every contract invariant broken by any follow-up, plus every audit mismatch.

    `rows` is `read_all(conn)` when the caller already has it.
    """
    rows = rows if rows is not None else read_all(conn)
    attempts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for attempt in rows["contact_attempts"]:
        attempts[attempt["follow_up_id"]].append(attempt)
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in rows["events"]:
        events[event["follow_up_id"]].append(event)
    found = [f"audit: {m}" for m in history.verify(conn)]
    for follow_up in rows["follow_ups"]:
        fid = follow_up["id"]
        found += [f"follow-up {fid}: {p}" for p in _broken(follow_up, attempts[fid], events[fid])]
    return found


def _broken(
    follow_up: dict[str, Any], attempts: list[dict[str, Any]], events: list[dict[str, Any]]
) -> list[str]:
    status = follow_up["status"]
    reached = any(a["outcome"] == "reached_customer" for a in attempts)
    outcomes = [e for e in events if e["type"] == "outcome_recorded"]
    problems = []
    if follow_up["contact_attempt_count"] != len(attempts):
        problems.append(f"count {follow_up['contact_attempt_count']} != {len(attempts)} rows")
    if status not in OPEN + TERMINAL:
        problems.append(f"unknown status {status!r}")
    if status == "pending" and (attempts or follow_up["started_at"] is not None):
        problems.append("pending but already worked")
    if status in OPEN and (outcomes or follow_up["completed_at"] is not None):
        problems.append("open but an outcome was recorded")
    if status in TERMINAL:
        problems += _terminal_problems(follow_up, reached, outcomes, events)
    if status == "completed":
        problems += _completed_problems(follow_up)
    if status == "closed_with_issue":
        problems += _closed_with_issue_problems(follow_up, outcomes)
    if sum(e["type"] == "issue_resolved" for e in events) > (status == "closed_with_issue"):
        problems.append("issue resolved more than once, or outside closed_with_issue")
    return problems


def _terminal_problems(
    follow_up: dict[str, Any],
    reached: bool,
    outcomes: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> list[str]:
    problems = []
    if not reached:
        problems.append(f"{follow_up['status']} without a contact that reached the customer")
    if len(outcomes) != 1 or follow_up["completed_at"] is None:
        problems.append(f"{len(outcomes)} outcome events, completedAt {follow_up['completed_at']}")
        return problems
    later = [e for e in events if e["id"] > outcomes[0]["id"]]
    for event in later:
        kept = event["from_status"] == event["to_status"] == follow_up["status"]
        if event["type"] not in AFTER_OUTCOME or not kept:
            problems.append(f"terminal state left or worked: {event['type']} after the outcome")
    return problems


def _completed_problems(follow_up: dict[str, Any]) -> list[str]:
    problems = []
    if follow_up["satisfaction_outcome"] is None:
        problems.append("completed without a satisfaction outcome")
    if follow_up["has_issue"] is None:
        problems.append("completed without saying whether there was an issue")
    if follow_up["has_issue"] and not follow_up["issue_resolved"]:
        problems.append("completed with an open issue")
    return problems


def _closed_with_issue_problems(
    follow_up: dict[str, Any], outcomes: list[dict[str, Any]]
) -> list[str]:
    problems = []
    if follow_up["has_issue"] is not True or not (follow_up["issue_summary"] or "").strip():
        problems.append("closed_with_issue without a reported, summarised issue")
    data = outcomes[0]["data"] if len(outcomes) == 1 else {}
    if data.get("hasIssue") is not True or data.get("issueResolved") is not False:
        problems.append(f"closed_with_issue but no issue open at closing: {data}")
    return problems
