"""The ASGI app: `/api/v1` for automation, the ops console for people, health and metrics.

`ied-workflow serve` runs `served_app` as a uvicorn factory, once per worker process;
tests build `create_app` around a `Workflow` with a fixed clock.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.types import Lifespan

from config.settings import get_settings
from ied_workflow.errors import ValidationError
from ied_workflow.web import console, metrics, process
from ied_workflow.web.api import problems
from ied_workflow.web.api.routes import (
    PREFIX,
    actions,
    dashboard,
    follow_ups,
    health,
    leads,
    notifications,
)
from ied_workflow.web.count_cache import CountCache
from ied_workflow.web.middleware import BodyLimit, Timing
from ied_workflow.workflow import Workflow

STATUSES_OF_EVERY_CALL = (401, 403, 413, 422, 503)
# Count snapshots that may recount at once: the dashboard's, its lists' totals, a list
# page's total (more at once take the pool's overflow).
RECOUNTS = 3


def served_app() -> FastAPI:
    """What `ied-workflow serve` runs in each worker process: the app from the IED_*
    settings, with the process tuned as it starts (`process.tune`).

    The process's pool holds a connection per thread (IED_WEB_THREADS), where every
    request's database work runs, and RECOUNTS more for the count snapshots' background
    recounts (`count_cache.py`): none is opened and closed for a single request.
    """
    settings = get_settings()

    @contextlib.asynccontextmanager
    async def tuned(_: FastAPI) -> AsyncIterator[None]:
        process.tune(settings.web_threads)
        yield

    workflow = Workflow.from_settings(settings, pool_size=settings.web_threads + RECOUNTS)
    return create_app(workflow, lifespan=tuned)


def create_app(
    workflow: Workflow | None = None, *, lifespan: Lifespan[FastAPI] | None = None
) -> FastAPI:
    """The app on `workflow` (default: from the IED_* settings); needs IED_SECRET_KEY.

    Tests build it around their own workflow; a server runs `served_app`.
    """
    wf = workflow or Workflow.from_settings()
    app = FastAPI(
        title="ied-workflow",
        version="1",
        summary="IED's post-delivery follow-up workflow: the V1 contract over HTTP.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.workflow = wf
    app.state.cursor_key = _cursor_key(wf)
    app.state.count_snapshots = CountCache(wf.settings.dashboard_counts_seconds, wf.db)
    # The list page's totals, keyed by filters a viewer types: their own snapshots, so
    # that their bound (snapshot.MAX_KEYS) never makes the dashboard's count again.
    app.state.list_counts = CountCache(wf.settings.dashboard_counts_seconds, wf.db)
    app.state.metrics, latency = metrics.registry_for(wf)
    problems.install(app)
    _routes(app)
    console.install(app, wf, _secret(wf))
    app.add_middleware(BodyLimit, limit=wf.settings.api_max_body_bytes)
    app.add_middleware(Timing, histogram=latency)  # outermost: times refusals too
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _secret(wf: Workflow) -> str:
    secret = wf.settings.secret_key
    if secret is None or not secret.get_secret_value().strip():
        raise ValidationError("IED_SECRET_KEY is not set: `serve` needs a long random secret")
    return secret.get_secret_value()


def _cursor_key(wf: Workflow) -> bytes:
    """A key for cursors only, derived from the secret (the console derives its own)."""
    return hashlib.sha256(b"ied-workflow cursor\0" + _secret(wf).encode()).digest()


def _routes(app: FastAPI) -> None:
    found = _problems(*STATUSES_OF_EVERY_CALL, 404)
    refused = _problems(*STATUSES_OF_EVERY_CALL, 404, 409, 412)
    app.include_router(leads.router, responses=found)
    app.include_router(follow_ups.router, responses=refused)
    app.include_router(actions.router, responses=refused)
    app.include_router(dashboard.router, responses=refused)
    app.include_router(notifications.router, responses=refused)
    app.include_router(health.router, responses=_problems(503))


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entries of these error statuses."""
    return {code: {"model": problems.Problem} for code in codes}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with errors declared as application/problem+json."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        for operation in _operations(schema):
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if int(code) >= 400 and "application/json" in content:
                    answer["content"] = {problems.MEDIA_TYPE: content["application/json"]}
        app.openapi_schema = schema
    return app.openapi_schema


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in schema.get("paths", {}).values() for op in path.values()]
