"""Instants as the console shows them, in the operations timezone with the zone named.

One formatter per zone, made once: a page formats up to a few hundred instants, and
reading the zone from the settings and calling `strftime` for each was 7 % of a list
page's CPU. The month names are the C locale's (what `strftime("%b")` gave).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache

MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def aware(moment: datetime) -> datetime:
    """A naive instant is UTC (SQLite gives them back naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Formatter:
    """Formats instants in one zone."""

    zone: tzinfo

    def when(self, moment: datetime | None) -> str:
        """'25 Nov 2026, 16:00 CET'; '' for no instant."""
        if moment is None:
            return ""
        t = aware(moment).astimezone(self.zone)
        day = f"{t.day:02d} {MONTHS[t.month]} {t.year}"
        return f"{day}, {t.hour:02d}:{t.minute:02d} {t.tzname() or ''}"

    def clock(self, moment: datetime) -> str:
        """The time of day to the second: '16:00:05'."""
        t = aware(moment).astimezone(self.zone)
        return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"

    @staticmethod
    def iso(moment: datetime | None) -> str:
        return aware(moment).isoformat() if moment else ""


@cache
def formatter(zone: tzinfo) -> Formatter:
    """The formatter of `zone` (a process has one or two zones: the cache stays tiny)."""
    return Formatter(zone)
