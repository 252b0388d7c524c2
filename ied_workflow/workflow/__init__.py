"""The Python API: each call is one unit of work on the configured database.

    wf = Workflow.from_settings()
    follow_up = wf.create("L-100", by="ops@ied.example")
    wf.log_contact(follow_up.id, by="ops@ied.example", outcome="reached_customer")

The CLI, the Celery tasks and the HTTP API all call these methods. `now=` fixes the
clock for one call (replays, `--now`, tests); otherwise the database's clock is read.
A worker passes `dispatch_soon`, which runs after any commit that recorded an alert.

One file per area, each a class over `WorkflowBase` (settings, `run`); `Workflow` is
their union, so callers keep one object and each area stays a screen or two.
"""

from __future__ import annotations

from ied_workflow.workflow.accounts import AccountCalls
from ied_workflow.workflow.alerts import AlertCalls
from ied_workflow.workflow.follow_ups import FollowUpCalls


class Workflow(FollowUpCalls, AlertCalls, AccountCalls):
    """The follow-up workflow bound to one database."""


__all__ = ["Workflow"]
