"""What every benchmark shares: the fixed clock, database URLs, figures and timing."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from config.settings import Settings

# The data set is built around a fixed instant, so a reused data set stays valid.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
OPS = "ops@ied.example"
ADMIN_URL = os.environ.get("IED_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")


def database_url(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the admin URL's server."""
    server = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{server}/{name}"


def libpq_url(url: str) -> str:
    """A SQLAlchemy psycopg URL as plain psycopg wants it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def ensure_database(name: str) -> str:
    """Create database `name` if it is missing; return its SQLAlchemy URL."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            admin.execute(f'CREATE DATABASE "{name}"')  # names are ours, never user text
    return database_url(name)


def bench_settings(url: str, **overrides: Any) -> Settings:
    """Settings with both alert channels configured (the sinks' addresses when given)."""
    values: dict[str, Any] = {
        "database_url": url,
        "slack_webhook_url": "http://127.0.0.1:9/services/T/B/bench",
        "smtp_host": "127.0.0.1",
        "ops_emails": ["ops@ied.example"],
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


@dataclass(frozen=True)
class Goal:
    """A target on one statistic of a figure: `on` is "ratio" or "median"."""

    on: str
    op: str
    limit: float

    def met(self, value: float) -> bool:
        checks: dict[str, Callable[[float, float], bool]] = {
            "<=": lambda a, b: a <= b,
            "<": lambda a, b: a < b,
            ">=": lambda a, b: a >= b,
        }
        return checks[self.op](value, self.limit)

    def __str__(self) -> str:
        return f"{self.on} {self.op} {self.limit:g}"


@dataclass
class Figure:
    """One measured figure: its runs, the baseline's runs in the same run, and its goal."""

    name: str
    unit: str
    samples: list[float]
    baseline: list[float] = field(default_factory=list)
    goal: Goal | None = None
    note: str = ""
    checks: dict[str, bool] = field(default_factory=dict)  # more conditions of passing

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ratio(self) -> float | None:
        """The median of the paired per-run ratios to the baseline (noise cancels by pair)."""
        if not self.baseline:
            return None
        pairs = zip(self.samples, self.baseline, strict=True)
        ratios = [a / b for a, b in pairs if b]
        return statistics.median(ratios) if ratios else None

    @property
    def passed(self) -> bool | None:
        if self.goal is None:
            return None
        value = self.ratio if self.goal.on == "ratio" else self.median
        return value is not None and self.goal.met(value) and all(self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "median": self.median,
            "min": min(self.samples),
            "max": max(self.samples),
            "runs": len(self.samples),
            "samples": self.samples,
            "baseline_median": statistics.median(self.baseline) if self.baseline else None,
            "baseline_samples": self.baseline,
            "ratio": self.ratio,
            "goal": None if self.goal is None else str(self.goal),
            "passed": self.passed,
            "checks": self.checks,
            "note": self.note,
        }
