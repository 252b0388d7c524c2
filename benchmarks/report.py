"""The benchmark table (text and Markdown) and its JSON twin."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import ADMIN_URL, Figure, Goal

HEADER = ("figure", "unit", "median", "min", "max", "baseline", "ratio", "goal", "result")


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    """One row of strings per figure, in HEADER order."""
    table: list[tuple[str, ...]] = []
    for f in figures:
        result = {True: "pass", False: "MISS", None: "info"}[f.passed]
        failed = [name for name, ok in f.checks.items() if not ok]
        table.append(
            (
                f.name,
                f.unit,
                _number(f.median),
                _number(min(f.samples)),
                _number(max(f.samples)),
                _number(statistics.median(f.baseline) if f.baseline else None),
                "-" if f.ratio is None else f"{f.ratio:.2f}",
                "-" if f.goal is None else str(f.goal),
                result + "".join(f" (not: {name})" for name in failed),
            )
        )
    return table


def text_table(figures: Sequence[Figure]) -> str:
    table = [HEADER, *rows(figures)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = []
    for number, row in enumerate(table):
        cells = [
            cell.ljust(width) if i in (0, 1, 7, 8) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(figures)]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    with psycopg.connect(ADMIN_URL) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "load_average": os.getloadavg(),
        "postgresql": version[0] if version else None,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def write_json(path: Path, figures: Sequence[Figure], options: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": options,
        "figures": [figure.as_dict() for figure in figures],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def figures_from_json(path: Path) -> list[Figure]:
    """The figures of a results file written by write_json."""
    document = json.loads(path.read_text())
    figures = []
    for item in document["figures"]:
        goal = None
        if item["goal"]:
            on, op, limit = item["goal"].split()
            goal = Goal(on, op, float(limit))
        figures.append(
            Figure(
                item["name"],
                item["unit"],
                item["samples"],
                item["baseline_samples"],
                goal,
                item["note"],
                item.get("checks", {}),
            )
        )
    return figures


def main() -> None:
    """Print the Markdown table of a results file: python -m benchmarks.report FILE."""
    print(markdown_table(figures_from_json(Path(sys.argv[1]))))


if __name__ == "__main__":
    main()
