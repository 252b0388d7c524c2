"""A worker process for the memory figure: imports the worker code, optionally scans.

    python -m benchmarks.scan_worker URL [--scan]

Prints one JSON line with the process's peak resident set size (VmHWM).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import workers.tasks  # noqa: F401  # a real worker has Celery and the tasks loaded
from benchmarks.common import NOW, bench_settings
from ied_workflow.db import engines
from ied_workflow.workflow import Workflow


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--scan", action="store_true")
    args = parser.parse_args()
    workflow = Workflow(engines.make_engine(args.url), bench_settings(args.url))
    with workflow.engine.connect():
        pass  # both variants hold a connection: the difference is the scan alone
    written = workflow.scan_overdue(NOW).alerts_written if args.scan else 0
    print(json.dumps({"peak_rss_mb": round(peak_rss_mb(), 1), "alerts_written": written}))


if __name__ == "__main__":
    main()
