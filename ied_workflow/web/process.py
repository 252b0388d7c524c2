"""The server process, tuned for answering requests: few threads, a quieter collector.

`ied-workflow serve` runs `served_app` in each worker process; tests build `create_app`
and leave their own process as it is.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio.to_thread

R = TypeVar("R")

# Python's default (700, 10, 10) runs a full collection over everything the server ever
# loaded every few hundred requests, and no thread runs meanwhile. What start-up loaded is
# frozen out of collection (it lives as long as the process), and young collections run
# less often; memory per request is unchanged, a cycle lives a little longer.
GC_THRESHOLDS = (10_000, 50, 100)


def tune(threads: int) -> None:
    """Set this process's request threads and collector; called once, as serving starts.

    Must run in the event loop: its default executor and anyio's default thread limiter
    (static files) belong to it.
    """
    executor = ThreadPoolExecutor(threads, thread_name_prefix="ied-request")
    asyncio.get_running_loop().set_default_executor(executor)
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def in_thread(call: Callable[..., R], /, *args: Any) -> R:
    """`call(*args)` on the process's request threads, where a request's blocking work
    (its unit of work) runs: the loop's default executor, IED_WEB_THREADS of them.

    Every route is `async` and hands each unit of work over here: asyncio's handoff is
    cheaper than anyio's (FastAPI's for a plain `def` route, paid twice with a response
    model).
    """
    return await asyncio.to_thread(call, *args)
