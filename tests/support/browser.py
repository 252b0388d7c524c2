"""A real server and a real browser for console tests: uvicorn in a thread, Chromium.

The browser is Debian's /usr/bin/chromium (`.ci/run` installs it): Playwright's own
download cannot work here. Both end with the block that started them, so the leak
check finds nothing left behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, sync_playwright

from tests.support.net import free_port
from tests.support.shared_servers import unavailable
from tests.support.waiting import wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serving(app: object) -> Iterator[str]:
    """The app on a real uvicorn server on a free port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 15, "uvicorn up", every=0.02)
        assert thread.is_alive(), "uvicorn exited at start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium driven by Playwright, closed (with its driver) afterwards."""
    if not CHROMIUM.exists():  # fails in CI, skips on a laptop without it
        unavailable("chromium", FileNotFoundError(f"{CHROMIUM}: apt-get install -y chromium"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
