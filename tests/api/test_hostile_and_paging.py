"""Hostile text round-trips byte for byte; lists page by keyset cursors, never OFFSET."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.api_client import Api, delivered
from tests.support.data import NOW

HOSTILE = [
    "<script>alert('x')</script>",
    "<!channel> <!here> <@U123> <https://evil.example|click>",
    'quotes " \' ` and backslash \\ and {"json": true}',
    "unicode: café, 東京, عربى, emoji 😀👍🏽, zero-width \u200b, RTL \u202e",
    "tab\tand\nnewlines\n\nkept",
    "&amp; &lt; not decoded",
    "'; DROP TABLE follow_ups; --",
    "  leading and trailing spaces  ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips_byte_identical(operator: Api, text: str) -> None:
    follow_up = delivered(operator, notes=text)
    url = f"/api/v1/follow-ups/{follow_up['id']}"
    operator.post(f"{url}/contact-attempts", json={"outcome": "reached_customer", "note": text})
    closed = operator.post(
        f"{url}/outcome", json={"hasIssue": True, "issueSummary": text, "notes": text}
    )
    assert closed.json()["issueSummary"] == text
    read = operator.get(url).json()
    assert read["notes"] == f"{text}\n{text}"
    assert read["issueSummary"].encode() == text.encode()
    [attempt] = operator.get(f"{url}/history").json()["attempts"]
    assert attempt["note"] == text


def test_hostile_text_is_json_not_markup(operator: Api) -> None:
    follow_up = delivered(operator, notes="<script>x</script>")
    answer = operator.get(f"/api/v1/follow-ups/{follow_up['id']}")
    assert answer.headers["content-type"] == "application/json"


def test_lead_and_installer_ids_with_every_allowed_character_round_trip(operator: Api) -> None:
    lead_id = "L.a_b:c-9"
    answer = operator.put(
        f"/api/v1/leads/{lead_id}", json={"status": "assigned", "installerId": "I:1.2_3-x"}
    )
    assert answer.json()["id"] == lead_id
    assert operator.get(f"/api/v1/leads/{lead_id}").json()["installerId"] == "I:1.2_3-x"


def make_many(api: Api, count: int) -> list[int]:
    """`count` follow-ups, several sharing one due date so the keyset needs the id too."""
    ids = []
    for n in range(count):
        due = NOW + timedelta(hours=n // 3)
        ids.append(delivered(api, f"L-{n}", dueAt=due.isoformat())["id"])
    return ids


def test_pages_by_cursor_cover_every_row_once_in_due_order(viewer: Api, operator: Api) -> None:
    ids = make_many(operator, 11)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = viewer.get("/api/v1/follow-ups", params=params).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert (seen, pages) == (ids, 3)


def test_a_row_added_before_the_cursor_does_not_shift_the_next_page(
    viewer: Api, operator: Api
) -> None:
    ids = make_many(operator, 6)
    first = viewer.get("/api/v1/follow-ups", params={"limit": "3"}).json()
    delivered(operator, "L-early", dueAt=(NOW - timedelta(days=1)).isoformat())  # sorts first
    second = viewer.get("/api/v1/follow-ups", params={"limit": "3", "cursor": first["nextCursor"]})
    assert [item["id"] for item in second.json()["items"]] == ids[3:]


def test_a_full_last_page_has_no_next_cursor(viewer: Api, operator: Api) -> None:
    make_many(operator, 4)
    page = viewer.get("/api/v1/follow-ups", params={"limit": "4"}).json()
    assert (len(page["items"]), page["nextCursor"]) == (4, None)


def test_filters_and_cursor_combine(viewer: Api, operator: Api) -> None:
    ids = make_many(operator, 6)
    for follow_up_id in ids[::2]:
        operator.post(f"/api/v1/follow-ups/{follow_up_id}/start")
    params = {"status": "in_progress", "limit": "2"}
    first = viewer.get("/api/v1/follow-ups", params=params).json()
    rest = viewer.get("/api/v1/follow-ups", params={**params, "cursor": first["nextCursor"]}).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == ids[::2]
    by_lead = viewer.get("/api/v1/follow-ups", params={"leadId": "L-3"}).json()["items"]
    assert [i["id"] for i in by_lead] == [ids[3]]


def test_a_tampered_cursor_is_refused(viewer: Api, operator: Api) -> None:
    make_many(operator, 3)
    cursor = viewer.get("/api/v1/follow-ups", params={"limit": "1"}).json()["nextCursor"]
    payload, signature = cursor.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    assert viewer.get("/api/v1/follow-ups", params={"cursor": forged}).status_code == 422
