"""The console dashboard's tiles come from the shared count snapshot and say when they
were counted; its lists stay live."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

from ied_workflow.db.clock import FixedClock
from ied_workflow.web import page_cursors
from ied_workflow.workflow import Workflow
from tests.support.console_client import Browser, SignedIn, follow_up
from tests.support.data import NOW


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


def test_the_tiles_count_again_two_windows_past(wf: Workflow, as_role: dict[str, Browser]) -> None:
    follow_up(wf, "L-1", due_at=NOW - timedelta(days=1))
    viewer = as_role["viewer"]
    viewer.get("/")
    follow_up(wf, "L-2", due_at=NOW - timedelta(days=2))
    clock = wf.db.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=2 * wf.settings.dashboard_counts_seconds))
    page = viewer.get("/").text  # two windows old: counted again before answering
    assert overdue_tile(page) == "2" and ">16:00:10</time>" in page


def quiet_section(page: str) -> str:
    return page.split("In progress, no contact for 3 days")[1].split("<h2>")[0]


def test_list_totals_past_the_rows_shown_are_shared_like_the_tiles(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    clock = wf.db.clock
    assert isinstance(clock, FixedClock)
    # Given nine follow-ups in progress, quiet for 4 days (a section shows 8 rows), and a
    # tenth started a day and half a second after them
    for n in range(9):
        wf.start(follow_up(wf, f"L-{n}").id, by="ops@ied.example")
    clock.advance(timedelta(days=1, seconds=0.5))
    wf.start(follow_up(wf, "L-9").id, by="ops@ied.example")
    clock.advance(timedelta(days=3, seconds=-0.5))
    viewer = as_role["viewer"]
    assert '<span class="pill">9</span>' in quiet_section(viewer.get("/").text)
    # When the tenth goes quiet a second later, within the counts' window
    clock.advance(timedelta(seconds=1))
    # Then the section's total is still the shared count
    assert '<span class="pill">9</span>' in quiet_section(viewer.get("/").text)
    # And two windows later it is counted again before answering
    clock.advance(timedelta(seconds=2 * wf.settings.dashboard_counts_seconds))
    assert '<span class="pill">10</span>' in quiet_section(viewer.get("/").text)


def matching(page: str) -> str:
    """The list page's total, with ' @HH:MM:SS' when it is a shared count taken earlier."""
    found = re.search(
        r'<p class="muted">([^<]*?) matching( \(counted at <time[^>]*>([^<]+)<)?', page
    )
    assert found, "no total on the list page"
    return found.group(1) + (f" @{found.group(3)}" if found.group(3) else "")


def test_a_list_whose_rows_fit_on_its_page_counts_them_live(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    # Given a list of two read once
    follow_up(wf, "L-1")
    follow_up(wf, "L-2")
    viewer = as_role["viewer"]
    assert matching(viewer.get("/follow-ups").text) == "2"
    # When a third matches a second later, within the counts' window
    follow_up(wf, "L-3")
    clock = wf.db.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=1))
    # Then the page counts its rows: three, no shared count and no time
    assert matching(viewer.get("/follow-ups").text) == "3"


def test_a_longer_list_s_total_is_shared_and_says_when_it_was_counted(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    # Given a list past one page (50 rows), read once at 16:00:00 Berlin time
    for n in range(51):
        follow_up(wf, f"L-{n:02}", due_at=NOW + timedelta(minutes=n))
    viewer = as_role["viewer"]
    assert matching(viewer.get("/follow-ups").text) == "51"  # counted at the page's instant
    # When one more matches, due first, and the list is read a second later
    follow_up(wf, "L-new", due_at=NOW - timedelta(days=1))
    clock = wf.db.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=1))
    page = viewer.get("/follow-ups").text
    # Then the rows are live, the total is the shared count and says when it was taken
    assert "L-new" in page and matching(page) == "51 @16:00:00"
    # And two windows later the total is counted again, at the page's instant
    clock.advance(timedelta(seconds=2 * wf.settings.dashboard_counts_seconds))
    assert matching(viewer.get("/follow-ups").text) == "52"


def test_a_shared_total_never_says_fewer_than_the_page_shows(
    wf: Workflow, as_role: dict[str, Browser]
) -> None:
    clock = wf.db.clock
    assert isinstance(clock, FixedClock)
    # Given 30 matching follow-ups, their total shared from a later page's read
    made = [follow_up(wf, f"L-{n:02}", due_at=NOW + timedelta(minutes=n)) for n in range(30)]
    viewer = as_role["viewer"]
    key = cast(SignedIn, as_role).app.state.cursor_key
    later = page_cursors.cursor(made[28].due_at, made[28].id, key)
    assert matching(viewer.get(f"/follow-ups?cursor={later}").text) == "30"
    # When 30 more match a second later, within the counts' window
    for n in range(30, 60):
        follow_up(wf, f"L-{n:02}", due_at=NOW + timedelta(minutes=n))
    clock.advance(timedelta(seconds=1))
    page = viewer.get("/follow-ups").text
    # Then the first page, 50 rows and a next page, says at least the 51 it read
    assert 'rel="next"' in page and matching(page) == "51 @16:00:00"
