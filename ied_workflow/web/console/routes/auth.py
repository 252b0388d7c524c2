"""/login and /logout: a password form, a signed session cookie, slowed guessing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from ied_workflow import links
from ied_workflow.errors import Unauthenticated
from ied_workflow.web.console import session
from ied_workflow.web.console.pages import PageRoute, render
from ied_workflow.web.console.throttle import LoginThrottle
from ied_workflow.web.process import in_thread

router = APIRouter(route_class=PageRoute, include_in_schema=False)
REFUSED = "That email and password do not match an active account."


@router.get(links.LOGIN)
async def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form; someone already signed in goes on to where they were heading."""
    if isinstance(request.session.get(session.USER), int):
        return RedirectResponse(session.local_path(next), status_code=303)
    return render(request, "login.html.j2", heading_to=session.local_path(next), email="")


@router.post(links.LOGIN)
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Sign in and go on; a failure says only that the pair did not match."""
    session.check_csrf(request, csrf_token)
    heading = session.local_path(next)
    throttle: LoginThrottle = request.app.state.login_throttle
    key = (request.client.host if request.client else "", email.strip().lower())
    wait = throttle.wait(key)
    if wait > 0:
        message = f"Too many failed attempts. Try again in {int(wait) + 1} seconds."
        return _again(request, message, email, heading, 429)
    try:
        who = await in_thread(request.app.state.workflow.sign_in, email, password)
    except Unauthenticated:
        throttle.failed(key)
        return _again(request, REFUSED, email, heading, 401)
    throttle.succeeded(key)
    session.begin(request, who)
    return RedirectResponse(heading, status_code=303)


def _again(request: Request, error: str, email: str, heading: str, status: int) -> Response:
    return render(
        request, "login.html.j2", status=status, error=error, email=email, heading_to=heading
    )


@router.post(links.LOGOUT)
async def logout(request: Request, visit: session.SignedInForm) -> Response:
    """Forget the session; the next page asks to sign in again."""
    await visit.together(lambda who, uow: who)  # a session already ended goes to /login
    session.end(request)
    session.flash(request, "You are signed out.")
    return RedirectResponse(links.LOGIN, status_code=303)
