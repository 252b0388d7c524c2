"""`served_app`: what `ied-workflow serve` runs, with its process tuned as serving starts."""

from __future__ import annotations

import asyncio
import gc
import importlib
import inspect
import pkgutil
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import ValidationError

from config.settings import get_settings
from ied_workflow.web import process
from ied_workflow.web.api import routes as api_routes
from ied_workflow.web.app import RECOUNTS, served_app
from ied_workflow.web.console import routes as console_routes
from tests.support.api_client import SECRET
from tests.support.settings import build_settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """This test process's collector as it was: the test freezes and retunes it."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.fixture
def settings_from_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IED_DATABASE_URL", database_url)
    monkeypatch.setenv("IED_SECRET_KEY", SECRET)
    monkeypatch.setenv("IED_WEB_THREADS", "3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("settings_from_env", "restored_collector")
def test_served_app_has_its_threads_pool_and_collector_set_as_it_starts() -> None:
    app = served_app()
    wf = app.state.workflow
    assert wf.engine.pool.size() == 3 + RECOUNTS  # one per thread, one per recount
    assert gc.get_threshold() != process.GC_THRESHOLDS  # not before serving starts
    try:
        with TestClient(app) as client:
            assert client.portal is not None
            assert client.portal.call(_thread_tokens) == 3  # static files
            threads = client.portal.call(_request_threads)
            assert len(threads) == 3  # 12 blocking calls at once share three threads
            assert all(name.startswith("ied-request") for name in threads)
            assert gc.get_threshold() == process.GC_THRESHOLDS
            assert gc.get_freeze_count() > 0  # what was loaded is out of collection
            assert client.get("/healthz").status_code == 200
    finally:
        wf.engine.dispose()


async def _thread_tokens() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


async def _request_threads() -> set[str]:
    """The threads that 12 blocking calls, made at once through `in_thread`, ran on.

    Each waits for two others at a barrier: with fewer than three threads none would
    pass it (BrokenBarrierError), with more, more names would come back.
    """
    meeting = threading.Barrier(3, timeout=5)

    def blocking() -> str:
        meeting.wait()
        return threading.current_thread().name

    names = await asyncio.gather(*(process.in_thread(blocking) for _ in range(12)))
    return set(names)


def test_every_route_and_dependency_is_async() -> None:
    """A plain `def` route or dependency would run on anyio's threads, beside the
    request threads the database pool is sized for (`process.in_thread`)."""
    routes = list(_routes())
    plain = [
        f"{route.path}: {call.__qualname__}"
        for route in routes
        for call in _calls(route.dependant)
        if not (inspect.iscoroutinefunction(call) or _is_async_callable_object(call))
    ]
    assert len(routes) > 20  # the API's and the console's
    assert plain == []


def _routes() -> Iterator[APIRoute]:
    """Every route of every router module of the API and the console."""
    for package in (api_routes, console_routes):
        for found in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{found.name}")
            yield from (r for r in module.router.routes if isinstance(r, APIRoute))


def _is_async_callable_object(call: object) -> bool:
    """An instance whose `__call__` is `async` (FastAPI's HTTPBearer)."""
    return inspect.iscoroutinefunction(type(call).__call__)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def test_a_server_needs_at_least_one_thread() -> None:
    with pytest.raises(ValidationError, match="web_threads"):
        build_settings("sqlite://", web_threads=0)
