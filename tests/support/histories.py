"""Follow-ups lived in full through the service, for the audit replay to verify."""

from __future__ import annotations

from datetime import timedelta

from ied_workflow.workflow import Workflow
from tests.support.data import NOW, OPEN_ISSUE, OPS, SATISFIED, delivered, reached


def full_lives(workflow: Workflow) -> None:
    done = reached(workflow, "L-1")
    workflow.log_contact(done.id, by=OPS, outcome="attempted", at=NOW - timedelta(hours=5))
    workflow.reschedule(done.id, due_at=NOW + timedelta(days=2), by=OPS)
    workflow.record_outcome(done.id, by=OPS, outcome=SATISFIED)
    issue = reached(workflow, "L-2")
    workflow.record_outcome(issue.id, by=OPS, outcome=OPEN_ISSUE)
    workflow.resolve_issue(issue.id, by=OPS)
    delivered(workflow, "L-3")
