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

# Python's default (700, 10, 10) runs a young collection every few requests and a full
# one, over every object the server ever loaded, every few hundred: 70-100 ms each at 1M
# follow-ups, in which no thread of the process runs. What is loaded at start-up is
# frozen out of collection (it lives as long as the process), and young collections run
# 14 times less often; memory per request is unchanged, a cycle lives a little longer.
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

    Every route is `async` and hands each unit of work over here: asyncio's handoff costs
    about 20 µs of CPU, anyio's (what FastAPI uses for a plain `def` route or dependency)
    about 65 µs, and a `def` route with a response model pays it twice.
    """
    return await asyncio.to_thread(call, *args)
