"""`served_app`: what `ied-workflow serve` runs, with its process tuned as serving starts."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterator

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from config.settings import get_settings
from ied_workflow.web import process
from ied_workflow.web.app import RECOUNTS, served_app
from tests.api.conftest import SECRET
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
    """The threads that 12 blocking calls, made at once through `in_thread`, ran on."""

    def blocking() -> str:
        time.sleep(0.05)
        return threading.current_thread().name

    names = await asyncio.gather(*(process.in_thread(blocking) for _ in range(12)))
    return set(names)


def test_a_server_needs_at_least_one_thread() -> None:
    with pytest.raises(ValidationError, match="web_threads"):
        build_settings("sqlite://", web_threads=0)
