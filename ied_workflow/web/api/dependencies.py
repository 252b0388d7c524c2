"""Who is calling: a bearer token, checked against the database on every request.

Reading the token and its user afresh each time is what makes a revoked token or a
disabled user fail from the very next request, with no cache to wait out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ied_workflow.accounts.records import Principal
from ied_workflow.domain import Role
from ied_workflow.errors import Unauthenticated
from ied_workflow.web.process import in_thread
from ied_workflow.workflow import Workflow

R = TypeVar("R")

bearer = HTTPBearer(auto_error=False, description="`ied-workflow tokens create EMAIL`")


async def workflow(request: Request) -> Workflow:
    """The app's one `Workflow` (engine, settings, clock).

    `async` because it does not block: FastAPI runs a plain `def` dependency in its
    thread pool, a thread handoff per request for nothing.
    """
    found: Workflow = request.app.state.workflow
    return found


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The bearer value sent, or 401 when there is none (no I/O: before the body is read)."""
    if credentials is None:
        raise Unauthenticated("send Authorization: Bearer TOKEN")
    return credentials.credentials


@dataclass(frozen=True, slots=True)
class Acting:
    """A request's bearer token and the role its route needs, checked when the route acts."""

    workflow: Workflow
    token: str
    needed: Role

    async def __call__(self, action: Callable[[Workflow, Principal], R]) -> R:
        """Check the caller (401, 403) and run `action` in one thread handoff and one
        unit of work: the token is read in the use case's own transaction.

        Checking in a sync dependency, then running a sync route body, cost two thread
        handoffs and two transactions per request.
        """
        wf = self.workflow
        return await in_thread(wf.acting, self.token, self.needed, lambda who: action(wf, who))


def acting(needed: Role) -> Callable[..., Awaitable[Acting]]:
    """A dependency giving the route an `Acting` for `needed`; a missing token is 401 at once."""

    async def bound(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Acting:
        return Acting(request.app.state.workflow, _token(credentials), needed)

    return bound


WorkflowDep = Annotated[Workflow, Depends(workflow)]
AsViewer = Annotated[Acting, Depends(acting(Role.VIEWER))]
AsOperator = Annotated[Acting, Depends(acting(Role.OPERATOR))]
AsAdmin = Annotated[Acting, Depends(acting(Role.ADMIN))]
