"""The console's session: who is signed in, the CSRF token, one-shot messages.

The session is a cookie signed by Starlette's SessionMiddleware (itsdangerous) with a
key derived from IED_SECRET_KEY; it holds the user's id, never their role, so the
user row is read afresh on every request and a disabled user is out at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Form, Request

from ied_workflow import links
from ied_workflow.accounts.records import Principal
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import Role
from ied_workflow.errors import PermissionDenied, Unauthenticated
from ied_workflow.web.process import in_thread
from ied_workflow.workflow import Workflow

R = TypeVar("R")

USER, CSRF, FLASH = "uid", "csrf", "flash"
COOKIE = "ied_console"


class SignInNeeded(Unauthenticated):
    """Raised when a page needs a signed-in user; answered by a redirect to /login."""

    def __init__(self, heading_to: str) -> None:
        super().__init__("sign in first")
        self.heading_to = heading_to


class CsrfRefused(PermissionDenied):
    """Raised when a form comes without this session's CSRF token: nothing is done."""


def session_key(secret: str) -> str:
    """The cookie-signing key, derived so it differs from the cursor key."""
    return hashlib.sha256(b"ied-workflow console session\0" + secret.encode()).hexdigest()


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use (signed in or not: login has one too)."""
    token = request.session.get(CSRF)
    if not isinstance(token, str):
        token = request.session[CSRF] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: str) -> None:
    """Refuse a form whose token is not this session's (compared in constant time)."""
    expected = request.session.get(CSRF)
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent or ""):
        raise CsrfRefused(
            "the form did not carry this session's security token: reload the page and try again"
        )


def flash(request: Request, message: str) -> None:
    """A message for the next page (after a redirect), shown once."""
    request.session[FLASH] = message


def pop_flash(request: Request) -> str | None:
    message = request.session.pop(FLASH, None)
    return message if isinstance(message, str) else None


def begin(request: Request, who: Principal) -> None:
    """Sign in: a fresh session (new CSRF token) so nothing from before carries over."""
    request.session.clear()
    request.session[USER] = who.user_id
    request.session[CSRF] = secrets.token_urlsafe(32)


def end(request: Request) -> None:
    request.session.clear()


def heading_to(request: Request) -> str:
    """Where the user was heading: this page's path and query (GETs only)."""
    if request.method != "GET":
        return links.DASHBOARD
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_path(heading: str) -> str:
    heading = local_path(heading)
    return (
        links.LOGIN
        if heading == links.DASHBOARD
        else f"{links.LOGIN}?{urlencode({'next': heading})}"
    )


def local_path(target: str | None) -> str:
    """`target` when it is a path on this site, else the dashboard.

    Refuses what a browser would take elsewhere: a scheme or host, `//host`, `/\\host`,
    and control characters (a browser drops tabs and newlines, so `/\\t/host` is `//host`).
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return links.DASHBOARD
    if any(ord(c) < 0x20 or c == "\\" or ord(c) == 0x7F for c in target):
        return links.DASHBOARD
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or len(target) > 2000:
        return links.DASHBOARD
    return target


@dataclass(frozen=True, slots=True)
class Visit:
    """A signed-in session's request and the role its page needs, checked when it reads.

    The user row is read in the page's own unit of work (`together`), on every request:
    a disabled user is out at once. A sync dependency reading it cost a second thread
    handoff and a second transaction per page.
    """

    request: Request
    user_id: int
    needed: Role

    async def together(self, work: Callable[[Principal, UnitOfWork], R]) -> R:
        """Read the user, check the role (403), then run `work` in the same unit of work,
        on a request thread (`process.in_thread`): the `Workflow` calls it makes join that
        transaction. A session whose user is gone or disabled is ended and redirected to
        /login. The page is rendered after, on the event loop."""
        wf: Workflow = self.request.app.state.workflow
        return await in_thread(wf.together, lambda uow: work(self._who(wf), uow))

    def _who(self, wf: Workflow) -> Principal:
        try:
            who = wf.session_user(self.user_id)
        except Unauthenticated:
            end(self.request)
            raise SignInNeeded(heading_to(self.request)) from None
        self.request.state.who = who  # for an error page
        return who.allowed(self.needed)  # the one role rule, as the API's


def _visit(request: Request, needed: Role) -> Visit:
    """The session's user id (no I/O), or a redirect to /login that remembers the page."""
    user_id = request.session.get(USER)
    if not isinstance(user_id, int):
        raise SignInNeeded(heading_to(request))
    return Visit(request, user_id, needed)


def role(needed: Role, *, form: bool) -> Callable[..., Awaitable[Visit]]:
    """A dependency: a `Visit` for `needed`; a form's CSRF token is checked first, so a
    forged POST is refused before anything else is read.

    `async` because it does no I/O: FastAPI runs a plain `def` dependency in its thread
    pool, a handoff per request for nothing.
    """

    async def page(request: Request) -> Visit:
        return _visit(request, needed)

    async def posted(request: Request, csrf_token: Annotated[str, Form()] = "") -> Visit:
        check_csrf(request, csrf_token)
        return _visit(request, needed)

    return posted if form else page


Viewer = Annotated[Visit, Depends(role(Role.VIEWER, form=False))]
Admin = Annotated[Visit, Depends(role(Role.ADMIN, form=False))]
SignedInForm = Annotated[Visit, Depends(role(Role.VIEWER, form=True))]
OperatorForm = Annotated[Visit, Depends(role(Role.OPERATOR, form=True))]
AdminForm = Annotated[Visit, Depends(role(Role.ADMIN, form=True))]
