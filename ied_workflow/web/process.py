"""The server process, tuned for answering requests: few threads, a quieter collector.

`ied-workflow serve` runs `served_app` in each worker process; tests build `create_app`
and leave their own process as it is.
"""

from __future__ import annotations

import gc

import anyio.to_thread

# Python's default (700, 10, 10) runs a young collection every few requests and a full
# one, over every object the server ever loaded, every few hundred: 70-100 ms each at 1M
# follow-ups, in which no thread of the process runs. What is loaded at start-up is
# frozen out of collection (it lives as long as the process), and young collections run
# 14 times less often; memory per request is unchanged, a cycle lives a little longer.
GC_THRESHOLDS = (10_000, 50, 100)


def tune(threads: int) -> None:
    """Set this process's thread pool and collector; called once, as serving starts.

    Must run in the event loop: anyio's default thread limiter belongs to it.
    """
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
