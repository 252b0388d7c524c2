"""The V1 follow-up state machine: every status change and its guards live here.

One `transitions.Machine` is shared by every follow-up. Events are fired on a
follow-up without registering it (`Event.trigger(model)`): a Machine per object, or
`add_model` per call, costs more than the transition and grows with the follow-ups seen.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any, cast

from transitions import EventData, Machine, MachineError

from ied_workflow.domain import OPEN_STATUSES, FollowUp, Outcome, Status
from ied_workflow.errors import GuardFailed, TransitionNotAllowed

PENDING, IN_PROGRESS = Status.PENDING.value, Status.IN_PROGRESS.value
COMPLETED, CLOSED_WITH_ISSUE = Status.COMPLETED.value, Status.CLOSED_WITH_ISSUE.value
OPEN = [status.value for status in OPEN_STATUSES]
ANY = [status.value for status in Status]


def _follow_up(event: EventData) -> FollowUp:
    return cast(FollowUp, event.model)  # fire() is only called with follow-ups


def _outcome(event: EventData) -> Outcome:
    return cast(Outcome, event.kwargs["outcome"])  # record_outcome always passes one


def reached_customer(event: EventData) -> bool:
    """Completion needs real contact: at least one attempt that reached the customer."""
    if not _follow_up(event).reached_customer:
        raise GuardFailed("no contact attempt has reached the customer yet")
    return True


def issue_declared(event: EventData) -> bool:
    """The outcome must say explicitly whether the customer reported a problem."""
    outcome = _outcome(event)
    if outcome.has_issue is None:
        raise GuardFailed("the outcome must say whether the customer has an issue")
    if outcome.has_issue and not (outcome.issue_summary or "").strip():
        raise GuardFailed("an issue needs a non-empty issue summary")
    if not outcome.has_issue and (outcome.issue_resolved or outcome.issue_summary):
        raise GuardFailed("an issue summary or resolution needs has-issue")
    return True


def no_open_issue(event: EventData) -> bool:
    """Chooses `completed` when no issue is open (none, or already resolved)."""
    return not _outcome(event).issue_open


def issue_open(event: EventData) -> bool:
    """Chooses `closed_with_issue` when the customer's issue is still open."""
    return _outcome(event).issue_open


def satisfaction_recorded(event: EventData) -> bool:
    """`completed` means the outcome was logged, satisfaction included."""
    if _outcome(event).satisfaction is None:
        raise GuardFailed("completing needs a satisfaction outcome")
    return True


def issue_unresolved(event: EventData) -> bool:
    """Resolving an issue twice is refused so the audit trail stays meaningful."""
    if _follow_up(event).issue_resolved:
        raise GuardFailed("the issue is already resolved")
    return True


OUTCOME_CHECKS = [reached_customer, issue_declared]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "start", "source": PENDING, "dest": IN_PROGRESS},
    {"trigger": "log_contact", "source": PENDING, "dest": IN_PROGRESS},
    {"trigger": "log_contact", "source": IN_PROGRESS, "dest": None},
    {
        "trigger": "record_outcome",
        "source": IN_PROGRESS,
        "dest": COMPLETED,
        "conditions": [*OUTCOME_CHECKS, no_open_issue, satisfaction_recorded],
    },
    {
        "trigger": "record_outcome",
        "source": IN_PROGRESS,
        "dest": CLOSED_WITH_ISSUE,
        "conditions": [*OUTCOME_CHECKS, issue_open],
    },
    {
        "trigger": "resolve_issue",
        "source": CLOSED_WITH_ISSUE,
        "dest": None,
        "conditions": [issue_unresolved],
    },
    {"trigger": "reschedule", "source": OPEN, "dest": None},
    {"trigger": "add_note", "source": ANY, "dest": None},
]

MACHINE_SETTINGS: dict[str, Any] = {
    "states": ANY,
    "transitions": TRANSITIONS,
    "initial": PENDING,
    "auto_transitions": False,  # no to_completed() back door
    "send_event": True,
    "model_attribute": "status",
}

MACHINE = Machine(model=None, **MACHINE_SETTINGS)
# transitions logs every trigger at DEBUG; at a million follow-ups that is noise and
# ~10% of a trigger's cost. Our own audit events say what happened.
logging.getLogger("transitions").setLevel(logging.WARNING)

REFUSALS = {
    "start": "only a pending follow-up can be started",
    "log_contact": "contact can only be logged on an open follow-up",
    "record_outcome": "an outcome can only be recorded on an in-progress follow-up",
    "resolve_issue": "only a follow-up closed with an issue can have its issue resolved",
    "reschedule": "only an open follow-up can be rescheduled",
    "add_note": "notes cannot be added here",
}


def fire(follow_up: FollowUp, trigger: str, **kwargs: Any) -> str:
    """Fire `trigger` on `follow_up`, set its new status and return it.

    Raises TransitionNotAllowed when the current status has no such transition and
    GuardFailed (with the failing guard's reason) when a precondition is not met.
    """
    if _changes_nothing(trigger, follow_up.status):
        return follow_up.status
    try:
        accepted = MACHINE.events[trigger].trigger(follow_up, **kwargs)
    except MachineError:
        raise TransitionNotAllowed(
            f"{REFUSALS[trigger]} (follow-up {follow_up.id} is {follow_up.status})"
        ) from None
    if not accepted:
        raise GuardFailed(f"{trigger} refused for follow-up {follow_up.id}")
    return follow_up.status


@cache
def _changes_nothing(trigger: str, status: str) -> bool:
    """True when the machine's only transition for this pair is internal and unguarded.

    Running such a transition through transitions' event loop changes nothing but
    costs time; the answer is read from the machine's own table, so the machine
    stays the one place that says which operations a status allows.
    """
    choices = MACHINE.events[trigger].transitions.get(status, [])
    if len(choices) != 1:
        return False
    only = choices[0]
    callbacks = (only.conditions, only.prepare, only.before, only.after)
    return only.dest is None and not any(callbacks)


def allowed_triggers(status: str) -> list[str]:
    """The triggers possible from `status`, for help texts and tests."""
    return sorted(MACHINE.get_triggers(status))


def mermaid_diagram() -> str:
    """The state diagram drawn by transitions itself from the same definitions."""
    from transitions.extensions.diagrams import GraphMachine

    class _Sketch:
        pass

    sketch = _Sketch()
    GraphMachine(
        model=sketch,
        graph_engine="mermaid",
        title="follow-up",
        show_conditions=True,
        **MACHINE_SETTINGS,
    )
    return str(sketch.get_graph().draw(None))  # type: ignore[attr-defined]
