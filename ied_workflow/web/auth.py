"""Who is calling: a bearer token, checked against the database on every request.

Reading the token and its user afresh each time is what makes a revoked token or a
disabled user fail from the very next request, with no cache to wait out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ied_workflow.accounts import Principal
from ied_workflow.domain import Role
from ied_workflow.errors import PermissionDenied, Unauthenticated
from ied_workflow.workflow import Workflow

bearer = HTTPBearer(auto_error=False, description="`ied-workflow tokens create EMAIL`")


async def workflow(request: Request) -> Workflow:
    """The app's one `Workflow` (engine, settings, clock).

    `async` because it does not block: FastAPI runs a plain `def` dependency in its
    thread pool, a thread handoff per request for nothing.
    """
    found: Workflow = request.app.state.workflow
    return found


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The authenticated user, or 401."""
    if credentials is None:
        raise Unauthenticated("send Authorization: Bearer TOKEN")
    found: Workflow = request.app.state.workflow
    return found.authenticate(credentials.credentials)


def role(needed: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers whose role includes `needed`, else 403."""

    async def check(who: Annotated[Principal, Depends(caller)]) -> Principal:  # no I/O
        if not who.may(needed):
            raise PermissionDenied(f"role {who.role} may not do this; it needs {needed}")
        return who

    return check


Viewer = Annotated[Principal, Depends(role(Role.VIEWER))]
Operator = Annotated[Principal, Depends(role(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(role(Role.ADMIN))]
WorkflowDep = Annotated[Workflow, Depends(workflow)]
