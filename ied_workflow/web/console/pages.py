"""Rendering console pages: one Jinja2 environment (autoescape on), its filters, and
the route class that turns any error of a page into an HTML answer, never JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined

from ied_workflow import errors as e
from ied_workflow import labels, links
from ied_workflow.accounts.records import Principal
from ied_workflow.domain import Role
from ied_workflow.web.console import session
from ied_workflow.web.console.rows import table_rows
from ied_workflow.web.console.times import formatter

log = logging.getLogger(__name__)
ENV = Environment(
    loader=PackageLoader("ied_workflow.web.console", "templates"),
    autoescape=True,  # every value is text unless a template says otherwise; none does
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Pages render on the event loop: templates are package files that change only with
    # a release, so each is read and compiled once, with no `stat` of it per page.
    auto_reload=False,
)


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with what every page shows: who is signed in, the CSRF token, the zone."""
    wf = request.app.state.workflow
    fmt = formatter(wf.settings.zone)
    who: Principal | None = context.pop("who", None)
    context.setdefault("error", "")
    context.setdefault("nav", "")
    page = ENV.get_template(template).render(
        request=request,
        who=who,
        is_operator=who is not None and who.may(Role.OPERATOR),
        is_admin=who is not None and who.may(Role.ADMIN),
        csrf_token=session.csrf_token(request),
        flash=session.pop_flash(request),
        zone_name=wf.settings.ops_timezone,
        links=links,
        labels=labels,
        when=fmt.when,
        clock=fmt.clock,
        iso=fmt.iso,
        table=lambda rows, now: table_rows(rows, now, fmt),
        **context,
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


# Errors a page can meet, as (status, title); first match wins.
ERROR_PAGES: list[tuple[type[Exception], int, str]] = [
    (session.CsrfRefused, 403, "This form has expired"),
    (e.PermissionDenied, 403, "Not allowed for your role"),
    (e.NotFound, 404, "Not found"),
    (e.ValidationError, 422, "That input is not valid"),
    (RequestValidationError, 422, "That input is not valid"),
    (e.IedWorkflowError, 409, "Refused"),
]


def error_page(request: Request, error: Exception) -> Response:
    """The HTML answer for an error raised while building a page."""
    if isinstance(error, session.SignInNeeded):
        return RedirectResponse(session.login_path(error.heading_to), status_code=303)
    for kind, status, title in ERROR_PAGES:
        if isinstance(error, kind):
            detail = _detail(error)
            return render(
                request,
                "error.html.j2",
                status=status,
                title=title,
                detail=detail,
                who=getattr(request.state, "who", None),
            )
    raise error


def _detail(error: Exception) -> str:
    if isinstance(error, RequestValidationError):
        fields = [".".join(str(p) for p in item.get("loc", ())[1:]) for item in error.errors()]
        return "Check these fields: " + ", ".join(f for f in fields if f) + "."
    return sentence(str(error))


def sentence(message: str) -> str:
    """A rule's one-line message as a sentence for a page."""
    message = message.strip()
    if not message:
        return ""
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class PageRoute(APIRoute):
    """A route whose errors are pages: the API's problem+json handlers never see them."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:  # re-raised by error_page when it is not ours
                return error_page(request, error)

        return page
