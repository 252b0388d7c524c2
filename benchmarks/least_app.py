"""The least FastAPI app that serves the API's writes: what this design reaches at most.

The API's three write routes (start, a contact attempt, the outcome) on the same
`Workflow`, pydantic bodies and answers, with everything else the product adds taken
away: no middleware, no dependencies, no If-Match, no problem documents, no console, no
metrics. Each request reads its bearer token in the use case's transaction
(`Workflow.acting`), as the README's promise that a revoked token fails on the next
request needs. `benchmarks.web_server.least_app` serves it with `serve`'s uvicorn
settings; `benchmarks.http` holds the product's writes against it.

    python -m benchmarks.least_app --port 8001 --workers 2   (IED_DATABASE_URL set)
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, Request, Response

from config.settings import get_settings
from ied_workflow.cli.serve import uvicorn_options
from ied_workflow.domain import FollowUp, Outcome, Role
from ied_workflow.web import process
from ied_workflow.web.api import bodies
from ied_workflow.web.api.schemas import ContactAttemptIn, NoBody, OutcomeIn
from ied_workflow.workflow import Workflow

PREFIX = "/api/v1/follow-ups/{follow_up_id}"


def app() -> FastAPI:
    """One worker's app: the writes' routes and /readyz, the pool a connection a thread."""
    settings = get_settings()
    wf = Workflow.from_settings(settings, pool_size=settings.web_threads)

    @contextlib.asynccontextmanager
    async def tuned(_: FastAPI) -> AsyncIterator[None]:
        process.tune(settings.web_threads)
        yield

    least = FastAPI(lifespan=tuned, openapi_url=None, docs_url=None, redoc_url=None)

    async def act(request: Request, use_case: Callable[[str], FollowUp]) -> Response:
        """The use case in a request thread, as the product's `Acting` runs it."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        done = await process.in_thread(
            wf.acting, token, Role.OPERATOR, lambda who: use_case(who.email)
        )
        return bodies.answer(done)

    @least.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @least.post(f"{PREFIX}/start")
    async def start(follow_up_id: int, request: Request, body: NoBody | None = None) -> Response:
        return await act(request, lambda by: wf.start(follow_up_id, by=by))

    @least.post(f"{PREFIX}/contact-attempts")
    async def log_contact(follow_up_id: int, request: Request, body: ContactAttemptIn) -> Response:
        return await act(
            request,
            lambda by: wf.log_contact(follow_up_id, by=by, outcome=body.outcome, note=body.note),
        )

    @least.post(f"{PREFIX}/outcome")
    async def record_outcome(follow_up_id: int, request: Request, body: OutcomeIn) -> Response:
        outcome = Outcome(has_issue=body.has_issue, satisfaction=body.satisfaction)
        return await act(
            request, lambda by: wf.record_outcome(follow_up_id, by=by, outcome=outcome)
        )

    return least


def main() -> None:
    """uvicorn as `ied-workflow serve` runs it (`serve.uvicorn_options`), on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    import uvicorn

    options = uvicorn_options(get_settings())
    app_path = "benchmarks.least_app:app"
    uvicorn.run(app_path, host="127.0.0.1", port=args.port, workers=args.workers, **options)


if __name__ == "__main__":
    main()
