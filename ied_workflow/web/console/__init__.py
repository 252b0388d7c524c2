"""The ops console: server-rendered pages for people, on the API's use cases and roles.

`install` adds the pages, their static files, the signed session cookie and the
security headers to the app that `ied-workflow serve` runs.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from ied_workflow.web.console import session
from ied_workflow.web.console.headers import SecurityHeaders
from ied_workflow.web.console.routes import actions, auth, dashboard, follow_ups, notifications
from ied_workflow.web.console.throttle import LoginThrottle
from ied_workflow.workflow import Workflow

STATIC = "/static"


def install(app: FastAPI, wf: Workflow, secret: str) -> None:
    """Mount the console on `app`; `secret` is IED_SECRET_KEY (already checked)."""
    settings = wf.settings
    app.state.login_throttle = LoginThrottle()
    for router in (auth, dashboard, follow_ups, actions, notifications):
        app.include_router(router.router)
    app.mount(STATIC, StaticFiles(packages=[("ied_workflow.web.console", "static")]), "static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=session.session_key(secret),
        session_cookie=session.COOKIE,
        max_age=int(settings.session_hours * 3600),
        same_site="lax",
        https_only=(settings.base_url or "").startswith("https://"),
    )
    app.add_middleware(SecurityHeaders)
