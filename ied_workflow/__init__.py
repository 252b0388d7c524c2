"""ied-workflow: IED's post-delivery customer follow-up workflow.

The Python API is `Workflow`; errors all derive from `IedWorkflowError`.
"""

from ied_workflow.domain import ContactOutcome, FollowUp, Outcome, Satisfaction, Status
from ied_workflow.errors import (
    ConcurrentModification,
    DuplicateFollowUp,
    GuardFailed,
    IedWorkflowError,
    LeadNotEligible,
    NotFound,
    TransitionNotAllowed,
    ValidationError,
    VersionMismatch,
)
from ied_workflow.workflow import Workflow

__all__ = [
    "ConcurrentModification",
    "ContactOutcome",
    "DuplicateFollowUp",
    "FollowUp",
    "GuardFailed",
    "IedWorkflowError",
    "LeadNotEligible",
    "NotFound",
    "Outcome",
    "Satisfaction",
    "Status",
    "TransitionNotAllowed",
    "ValidationError",
    "VersionMismatch",
    "Workflow",
]
