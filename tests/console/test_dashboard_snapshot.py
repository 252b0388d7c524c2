"""The console dashboard's tiles come from the shared count snapshot and say when they
were counted; its lists stay live."""

from __future__ import annotations

import re
from datetime import timedelta

from ied_workflow.clock import FixedClock
from ied_workflow.workflow import Workflow
from tests.console.conftest import NOW, Browser, follow_up


def overdue_tile(page: str) -> str:
    tiles = dict(re.findall(r'href="([^"]+)">\s*<span class="count">([^<]+)</span>', page))
    return tiles["/follow-ups?overdue=true"]


def overdue_section(page: str) -> str:
    return page.split("Overdue, oldest first")[1].split("Due later today")[0]


def test_the_dashboard_says_when_its_counts_were_taken(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    page = as_role["viewer"].get("/").text
    # NOW is 15:00 UTC: 16:00 in Berlin, the console's ops timezone
    assert re.search(r"Counted at <time datetime=\"[^\"]+\">16:00:00</time>", page)


def test_lists_stay_live_while_the_counts_are_shared(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    # Given a dashboard read with one overdue follow-up
    follow_up(wf, "L-1", due_at=NOW - timedelta(days=1))
    viewer = as_role["viewer"]
    assert overdue_tile(viewer.get("/").text) == "1"
    # When a second one is overdue a second later, within the counts' window
    follow_up(wf, "L-2", due_at=NOW - timedelta(days=2))
    clock = wf.db.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=1))
    page = viewer.get("/").text
    # Then the tile still shows the shared count, counted at 16:00:00
    assert overdue_tile(page) == "1" and ">16:00:00</time>" in page
    # And the overdue list shows both at once, with its own count of them
    section = overdue_section(page)
    assert "L-1" in section and "L-2" in section
    assert '<span class="pill">2</span>' in section.split("</h2>")[0]


def test_the_tiles_count_again_past_the_window(wf: Workflow, as_role: dict[str, Browser]) -> None:
    follow_up(wf, "L-1", due_at=NOW - timedelta(days=1))
    viewer = as_role["viewer"]
    viewer.get("/")
    follow_up(wf, "L-2", due_at=NOW - timedelta(days=2))
    clock = wf.db.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=wf.settings.dashboard_counts_seconds))
    page = viewer.get("/").text
    assert overdue_tile(page) == "2" and ">16:00:05</time>" in page
