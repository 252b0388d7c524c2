"""ied-workflow: IED's post-delivery customer follow-up workflow.

The Python API is `Workflow`; errors all derive from `IedWorkflowError`.
"""

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
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


def __getattr__(name: str) -> object:
    # `Workflow` loads SQLAlchemy and the whole stack: imported on first use, so that a
    # module of the package (the CLI's `--version`, `errors`) does not pay for it.
    if name == "Workflow":
        from ied_workflow.workflow import Workflow

        return Workflow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
