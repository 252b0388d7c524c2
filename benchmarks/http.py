"""The HTTP edge under load: `ied-workflow serve` driven by wrk with 16 connections.

  api writes through HTTP   start, a reached contact and the outcome on fresh follow-ups,
                            one follow-up at a time per connection; baseline: the same use
                            cases called in-process through `Workflow` by 16 threads
  api writes, least         the same writes through the least FastAPI app that serves them
    FastAPI app reading     (`benchmarks.least_app`), against an in-process side measured
    the token               beside it: what this design reaches on the machine at hand
  api writes, HTTP ratio    the product's ratio over the least app's: what the product's
    over the least app's    own layers cost beyond the least it takes to serve the writes
  api writes, machine CPU   the busy CPU of the whole machine (server, PostgreSQL, wrk,
    per write               kernel) per write in the product's runs, against the in-process
                            side's
  api writes, CPU HTTP      run by run, the HTTP side's CPU per write less the in-process
    adds per write          side's: what HTTP adds to a write, in ms of this machine's CPU
  api reads                 GET /api/v1/follow-ups?overdue=true, GET /api/v1/dashboard: p99
  console                   the dashboard, a filtered list, a detail page with 50 history
                            rows, on a signed-in session: p95

wrk (Debian's /usr/bin/wrk) runs in its own process; its Lua scripts (benchmarks/wrk/)
count every answer that is not 2xx, and any such answer or socket error fails the figure.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from benchmarks.bench_rows import make_follow_ups
from benchmarks.common import OPS, Figure, Goal, bench_settings
from benchmarks.web_server import Server, least_app, running
from ied_workflow.domain import Outcome, Satisfaction
from ied_workflow.workflow import Workflow

WRK = Path("/usr/bin/wrk")
SCRIPTS = Path(__file__).with_name("wrk")
CLIENTS = 16
MAX_RATE = 5000  # tx/s no side reaches on 2 cores; sizes each side's pool of follow-ups
HISTORY = 50  # audit events on the detail page's follow-up
WRITES = "api writes through HTTP"
LEAST = "api writes, least FastAPI app reading the token"  # benchmarks/least_app.py
AGAINST_LEAST = "api writes, HTTP ratio over the least app's"
AGAINST_LEAST_GOAL = Goal("median", ">=", 0.9)  # WRITES' ratio over LEAST's
CPU = "api writes, machine CPU per write"
CPU_ADDED = "api writes, CPU HTTP adds per write"
CPU_ADDED_GOAL = Goal("median", "<=", 1)  # ms of the machine's CPU a write
API_GOAL = Goal("median", "<", 50)  # p99, ms
CONSOLE_GOAL = Goal("median", "<", 100)  # p95, ms
API_READS = {
    "api reads, GET /api/v1/follow-ups?overdue=true": "/api/v1/follow-ups?overdue=true",
    "api reads, GET /api/v1/dashboard": "/api/v1/dashboard",
}
CONSOLE_PAGES = {
    "console, dashboard page": "/",
    "console, filtered list page": "/follow-ups?status=in_progress",
    "console, detail page with 50 history rows": "/follow-ups/{detail}",
}


def require_wrk() -> None:
    """Fail at once, in one line, when the load generator is missing."""
    if not os.access(WRK, os.X_OK):
        raise RuntimeError(f"{WRK} is missing: apt-get install -y wrk")


def measure(url: str, runs: int, seconds: float) -> list[Figure]:
    """Every HTTP figure, `runs` times, each wrk run lasting `seconds`; the least app's
    runs after the product's, on a server of its own, and the figures that compare the
    two last."""
    require_wrk()
    detail = _follow_up_with_history(url)
    samples: dict[str, list[dict[str, Any]]] = {}
    writes: dict[str, list[dict[str, Any]]] = {"http": [], "in-process": []}
    with running(url) as server:
        _wrk_writes(server, url, 1)  # warm-up: every worker opens its connections
        for i in range(runs):
            order = ("http", "in-process") if i % 2 == 0 else ("in-process", "http")
            for side in order:
                writes[side].append(_write_side(side, server, url, seconds))
            pages = API_READS | CONSOLE_PAGES
            for name, path in pages.items():
                got = _wrk_get(server, path.format(detail=detail), seconds)
                samples.setdefault(name, []).append(got)
    note = (
        f"ied-workflow serve --workers 2, wrk -t{CLIENTS} -c{CLIENTS} (one connection per "
        "thread, its own follow-ups); baseline: Workflow in-process, 16 threads; its goal "
        f"is on its ratio over the least app's ({AGAINST_LEAST})"
    )
    product = _writes_figure(WRITES, "http", writes, note)
    least_note = (
        "benchmarks.least_app (each request's token read in its use case's transaction), "
        f"served as serve is (2 workers), wrk as above; the reference of {AGAINST_LEAST}; "
        "baseline: in-process, measured beside it"
    )
    least = _writes_figure(LEAST, LEAST, _least_runs(url, runs, seconds), least_note)
    figures = [product, least, _against_least(product, least)]
    figures += [_cpu_figure(writes), _cpu_added_figure(writes)]
    return figures + _read_figures(samples)


def _least_runs(url: str, runs: int, seconds: float) -> dict[str, list[dict[str, Any]]]:
    """The least app's writes and an in-process side of their own, in each run."""
    sides = [LEAST, "in-process"]
    writes: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for i in range(runs):
        for side in sides if i % 2 == 0 else sides[::-1]:
            writes[side].append(_least_side(side, url, seconds))
    return writes


def _write_side(side: str, server: Server, url: str, seconds: float) -> dict[str, Any]:
    if side == "http":
        return _wrk_writes(server, url, seconds)
    return _in_process(url, seconds)


def _least_side(side: str, url: str, seconds: float) -> dict[str, Any]:
    """The writes in-process, or through `benchmarks.least_app` started for this run alone."""
    if side == "in-process":
        return _in_process(url, seconds)
    with least_app(url) as server:
        _wrk_writes(server, url, 1)  # warm-up, as for the product's server
        return _wrk_writes(server, url, seconds)


def _pool(url: str, seconds: float) -> list[list[int]]:
    """Fresh pending follow-ups for one side of one run, one list per client."""
    count = max(CLIENTS * 4, math.ceil(MAX_RATE * seconds / 3))
    ids = make_follow_ups(url, count)
    return [ids[k::CLIENTS] for k in range(CLIENTS)]


def _wrk_writes(server: Server, url: str, seconds: float) -> dict[str, Any]:
    """The write use cases through HTTP: wrk with one connection per thread."""
    with tempfile.NamedTemporaryFile("w", suffix=".ids") as ids:
        ids.write("".join(",".join(map(str, part)) + "\n" for part in _pool(url, seconds)))
        ids.flush()
        env = {"IED_BENCH_IDS": ids.name, "IED_BENCH_AUTHORIZATION": server.authorization}
        busy = _busy_seconds()
        got = _wrk("writes.lua", server.base + "/", CLIENTS, seconds, env)
        busy = _busy_seconds() - busy
    rate = got["requests"] / (got["duration_us"] / 1e6)
    return got | {"rate": rate, "cpu_ms": 1000 * busy / max(got["requests"], 1)}


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent running anything (every core): the server,
    PostgreSQL, wrk itself and the kernel's loopback work alike. Idle and I/O wait (where
    a commit's fsync waits) are not running; Linux counts guest time inside user time and
    steal is the hypervisor's, so neither is added."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)


def _wrk_get(server: Server, path: str, seconds: float) -> dict[str, Any]:
    """One GET again and again: the API with the token, the console with the session."""
    env = {"IED_BENCH_AUTHORIZATION": server.authorization, "IED_BENCH_COOKIE": server.cookie}
    return _wrk("reads.lua", server.base + path, 2, seconds, env)


def _wrk(script: str, target: str, threads: int, seconds: float, env: dict[str, str]) -> Any:
    """Run wrk with `script`; its done() prints one JSON line, returned parsed."""
    command = [str(WRK), f"-t{threads}", f"-c{CLIENTS}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "10s", "-s", str(SCRIPTS / script), target]
    done = subprocess.run(
        command, env=os.environ | env, capture_output=True, text=True, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _in_process(url: str, seconds: float) -> dict[str, Any]:
    """The same use cases through `Workflow`, 16 threads on their own follow-ups."""
    pools = _pool(url, seconds)
    wf = Workflow.from_settings(bench_settings(url), pool_size=CLIENTS, max_overflow=0)
    outcome = Outcome(has_issue=False, satisfaction=Satisfaction.SATISFIED)
    steps: list[Callable[[int], object]] = [
        lambda fid: wf.start(fid, by=OPS),
        lambda fid: wf.log_contact(fid, by=OPS, outcome="reached_customer"),
        lambda fid: wf.record_outcome(fid, by=OPS, outcome=outcome),
    ]
    for step in steps:  # warm-up: statement caches, one connection per thread
        step(pools[0][0])
    barrier = threading.Barrier(CLIENTS + 1)
    done = [0] * CLIENTS
    failures: list[BaseException] = []
    deadline = [0.0]

    def client(k: int) -> None:
        barrier.wait()
        try:
            for fid in pools[k][1:] if k == 0 else pools[k]:
                for step in steps:
                    if time.monotonic() >= deadline[0]:
                        return
                    step(fid)
                    done[k] += 1
            failures.append(RuntimeError("an in-process client ran out of follow-ups"))
        except BaseException as error:  # reported by the caller, not lost in a thread
            failures.append(error)

    workers = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for worker in workers:
        worker.start()
    busy = _busy_seconds()
    started = deadline[0] = time.monotonic()
    deadline[0] += seconds
    barrier.wait()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    busy = _busy_seconds() - busy
    wf.engine.dispose()
    if failures:
        raise RuntimeError(f"in-process baseline failed: {failures[0]!r}") from failures[0]
    return {"rate": sum(done) / elapsed, "cpu_ms": 1000 * busy / max(sum(done), 1)}


def _follow_up_with_history(url: str) -> int:
    """A follow-up with HISTORY audit events, made through the product: half contact
    attempts (each its event and its attempt row), half notes."""
    (fid,) = make_follow_ups(url, 1)
    wf = Workflow.from_settings(bench_settings(url))
    try:
        for k in range(HISTORY // 2):
            wf.log_contact(fid, by=OPS, outcome="no_response", note=f"attempt {k + 1}")
            wf.add_note(fid, text=f"note {k + 1}", by=OPS)
        events, _ = wf.history(fid)
        if len(events) != HISTORY:
            raise RuntimeError(f"the detail follow-up has {len(events)} events, not {HISTORY}")
    finally:
        wf.engine.dispose()
    return fid


def _clean(runs: Sequence[dict[str, Any]]) -> bool:
    return all(run["non2xx"] == 0 and run["errors"] == 0 for run in runs)


def _writes_figure(
    name: str, side: str, writes: dict[str, list[dict[str, Any]]], note: str
) -> Figure:
    """`side`'s writes per second against the in-process side of the same runs; no goal
    of its own (see `_against_least`)."""
    runs = writes[side]
    checks = {
        "every answer 2xx, no socket error": _clean(runs),
        "no connection ran out of follow-ups": all(run["exhausted"] == 0 for run in runs),
    }
    rates = [run["rate"] for run in runs]
    baseline = [run["rate"] for run in writes["in-process"]]
    return Figure(name, "tx/s", rates, baseline, None, note, checks)


def _against_least(product: Figure, least: Figure) -> Figure:
    """The product's write ratio over the least app's, one value a suite run: each ratio
    is against its own in-process side, so each reflects the machine during its own runs,
    and their quotient is what the product's own layers cost beyond the least app. Either
    side's failed check fails it."""
    ours, theirs = product.ratio, least.ratio
    value = ours / theirs if ours is not None and theirs else math.nan
    checks = {name: ok and least.checks[name] for name, ok in product.checks.items()}
    note = f"{WRITES} ratio {_fraction(ours)} / {LEAST} ratio {_fraction(theirs)}"
    return Figure(AGAINST_LEAST, "x", [value], [], AGAINST_LEAST_GOAL, note, checks)


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _cpu_figure(writes: dict[str, list[dict[str, Any]]]) -> Figure:
    """The machine's busy CPU per write on each side, the sides of `_cpu_added_figure`.

    Both sides keep the cores nearly as busy, so the rates' ratio is close to the
    inverse of this one.
    """
    http = [run["cpu_ms"] for run in writes["http"]]
    baseline = [run["cpu_ms"] for run in writes["in-process"]]
    note = "CPU of every core over each side's run, per write; baseline: the in-process side"
    return Figure(CPU, "ms", http, baseline, None, note)


def _cpu_added_figure(writes: dict[str, list[dict[str, Any]]]) -> Figure:
    """What HTTP costs a write in all, run by run: the HTTP side's machine CPU per write
    less the in-process side's of the same run (wrk's own CPU, its start and exit,
    included)."""
    pairs = zip(writes["http"], writes["in-process"], strict=True)
    added = [http["cpu_ms"] - in_process["cpu_ms"] for http, in_process in pairs]
    checks = {"every answer 2xx, no socket error": _clean(writes["http"])}
    note = f"per run: {CPU}, the HTTP side less the in-process side"
    return Figure(CPU_ADDED, "ms", added, [], CPU_ADDED_GOAL, note, checks)


def _read_figures(samples: dict[str, list[dict[str, Any]]]) -> list[Figure]:
    figures = []
    for name, runs in samples.items():
        api = name in API_READS
        key, goal = ("p99_us", API_GOAL) if api else ("p95_us", CONSOLE_GOAL)
        rate = statistics.median(run["requests"] / (run["duration_us"] / 1e6) for run in runs)
        note = (
            f"wrk -t2 -c{CLIENTS}; median {rate:.0f} requests/s; p50 {_ms(runs, 'p50_us')}; "
            f"slowest answer (median of runs) {_ms(runs, 'max_us')}"
        )
        checks = {"every answer 2xx, no socket error": _clean(runs)}
        label = f"{name}, {key[:3]}"
        figures.append(
            Figure(label, "ms", [run[key] / 1000 for run in runs], [], goal, note, checks)
        )
    return figures


def _ms(runs: Sequence[dict[str, Any]], key: str) -> str:
    return f"{statistics.median(run[key] for run in runs) / 1000:.1f} ms"
