"""CLI start: whole `ied-workflow` processes, timed against Pythons that only import.

A command loads only what it uses, so a process that prints the version or
the help costs about what importing typer costs, and `followup show` about what
importing SQLAlchemy and typer costs. Each figure times the venv's own `ied-workflow`
console script from start to exit, `repeats` times per side and run, alternating with
its baseline process; a run's figure is the median of its repeats, and the ratio the
median of the runs' ratios. `followup show` reads a SQLite file with one follow-up,
made once before any timing, so this part needs no PostgreSQL data set.

`least program for followup show` times `benchmarks/least_cli.py` (typer, pydantic-settings
and one SELECT, nothing else) against the same baseline: the ceiling of that goal on the
machine at hand, measured in the same run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import NOW, OPS, Figure, Goal
from config.settings import Settings
from ied_workflow.db import migrate
from ied_workflow.workflow import Workflow

GOAL = Goal("ratio", "<=", 1.5)
REPEATS = 20  # processes per side and run: a start takes 0.05-0.3 s, and varies


@dataclass(frozen=True)
class Start:
    """A command whose start is timed, and the process it is compared with."""

    name: str
    args: tuple[str, ...]
    baseline: str  # the Python statement the baseline process runs
    goal: Goal | None = GOAL
    least: bool = False  # the least program's process instead of `ied-workflow`

    def command(self, script: Path) -> list[str]:
        if self.least:
            return [sys.executable, str(Path(__file__).with_name("least_cli.py")), *self.args]
        return [str(script), *self.args]

    def note(self) -> str:
        who = "python benchmarks/least_cli.py" if self.least else "ied-workflow"
        return f"`{who} {' '.join(self.args)}`; baseline: python -c {self.baseline!r}"


STARTS = (
    Start("cli start, --version", ("--version",), "import typer"),
    Start("cli start, --help", ("--help",), "import typer"),
    Start("cli start, followup show", ("followup", "show", "1"), "import sqlalchemy, typer"),
    Start(
        "cli start, least program for followup show",
        ("1",),
        "import sqlalchemy, typer",
        goal=None,
        least=True,
    ),
)


def console_script() -> Path:
    """The `ied-workflow` of the Python running the benchmarks (the venv's)."""
    script = Path(sys.executable).with_name("ied-workflow")
    if not script.exists():
        raise SystemExit(f"{script} is missing: install ied-workflow into this Python first")
    return script


def one_follow_up(url: str) -> None:
    """Database `url` (SQLite) at head with lead L-1 and its follow-up 1."""
    migrate.upgrade(url)
    workflow = Workflow.from_settings(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        workflow.upsert_lead("L-1", status="assigned", installer_id="I-1", now=NOW)
        workflow.create("L-1", by=OPS, now=NOW)
    finally:
        workflow.engine.dispose()


def seconds(command: Sequence[str], env: dict[str, str], cwd: str) -> tuple[float, bool]:
    """Wall time of one process, start to exit, and whether it exited 0."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - started, done.returncode == 0


def measure(runs: int, repeats: int = REPEATS) -> list[Figure]:
    script = console_script()
    with tempfile.TemporaryDirectory() as scratch:  # also the cwd: no stray .env is read
        url = f"sqlite:///{Path(scratch) / 'cli.db'}"
        one_follow_up(url)
        env = {**os.environ, "IED_DATABASE_URL": url}
        figures = []
        for start in STARTS:
            subject = start.command(script)
            baseline = [sys.executable, "-c", start.baseline]
            for command in (subject, baseline):  # warm: bytecode compiled, files cached
                seconds(command, env, scratch)
            samples, baselines, exits = [], [], []
            for _ in range(runs):
                mine: list[float] = []
                theirs: list[float] = []
                for repeat in range(repeats):
                    for ours in (True, False) if repeat % 2 else (False, True):  # alternate
                        took, exited_0 = seconds(subject if ours else baseline, env, scratch)
                        (mine if ours else theirs).append(took * 1000)
                        exits.append(exited_0)
                samples.append(statistics.median(mine))
                baselines.append(statistics.median(theirs))
            figures.append(
                Figure(
                    start.name,
                    "ms",
                    samples,
                    baselines,
                    start.goal,
                    f"{start.note()}; median of {repeats} processes per side and run",
                    {"every process exited 0": all(exits)},
                )
            )
    return figures
