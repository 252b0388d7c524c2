"""One error tree for everything ied-workflow refuses or fails to do.

The CLI maps classes to exit codes and workers map them to retry policy, so the
class of an error is its meaning; the message is one line a person can act on.
"""

from __future__ import annotations


class IedWorkflowError(Exception):
    """Raised for any refusal or failure that ied-workflow itself reports."""


class ValidationError(IedWorkflowError):
    """Raised when an input value is malformed (bad enum, email, datetime, text)."""


class NotFound(IedWorkflowError):
    """Raised when a lead, follow-up or notification id does not exist."""


class RuleViolation(IedWorkflowError):
    """Raised when the contract refuses an operation; nothing was changed."""


class TransitionNotAllowed(RuleViolation):
    """Raised when an operation is not possible from the follow-up's current status."""


class GuardFailed(RuleViolation):
    """Raised when a transition's precondition (guard) is not met."""


class DuplicateFollowUp(RuleViolation):
    """Raised when a lead already has its one primary follow-up (named, so a retry finds it)."""

    def __init__(self, message: str, follow_up_id: int | None = None) -> None:
        super().__init__(message)
        self.follow_up_id = follow_up_id


class LeadNotEligible(RuleViolation):
    """Raised when a lead's lifecycle status or installer does not allow a follow-up."""


class DuplicateUser(RuleViolation):
    """Raised when a user with that email already exists."""


class AccountDisabled(RuleViolation):
    """Raised when a disabled user is given a new token."""


class VersionMismatch(IedWorkflowError):
    """Raised when the caller saw an older version of the follow-up than the current one."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class Unauthenticated(IedWorkflowError):
    """Raised when a token is missing, unknown or revoked, or its user is disabled."""


class PermissionDenied(IedWorkflowError):
    """Raised when the authenticated user's role may not do what was asked."""


class ConcurrentModification(IedWorkflowError):
    """Raised when another writer changed the follow-up first; safe to retry."""


class Unavailable(IedWorkflowError):
    """Raised when a service ied-workflow needs (database, broker) is not there or not answering."""


class DeliveryError(IedWorkflowError):
    """Raised when a notification could not be delivered."""


class TransientDeliveryError(DeliveryError):
    """Raised when delivery may succeed later (5xx, 429, timeout, connection refused)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Raised when delivery will never succeed as is (4xx, malformed message)."""
