"""The console's addresses, in one place: its routes and the alerts that link to them.

Alerts are rendered far from the web edge (in a worker), so the paths live here,
below both, and the console's routes are declared from the same constants.
"""

from __future__ import annotations

from urllib.parse import urlencode

DASHBOARD = "/"
FOLLOW_UPS = "/follow-ups"
NOTIFICATIONS = "/notifications"
LOGIN = "/login"
LOGOUT = "/logout"

# Query-string names of the list's filters: the API's names, so a link reads the same.
OVERDUE_LIST = f"{FOLLOW_UPS}?{urlencode({'overdue': 'true'})}"
OPEN_ISSUES_LIST = f"{FOLLOW_UPS}?{urlencode({'status': 'closed_with_issue', 'openIssue': 'true'})}"


def listing(**query: str | list[str]) -> str:
    """The list filtered by `query` (the list's parameter names), e.g. listing(overdue="true")."""
    shown = {name: value for name, value in query.items() if value not in ("", [], None)}
    return f"{FOLLOW_UPS}?{urlencode(shown, doseq=True)}" if shown else FOLLOW_UPS


def follow_up(follow_up_id: int) -> str:
    """The detail page of one follow-up."""
    return f"{FOLLOW_UPS}/{int(follow_up_id)}"


def absolute(base_url: str | None, path: str) -> str | None:
    """`path` under the public address, or None when IED_BASE_URL is not set (no link)."""
    if not base_url:
        return None
    return base_url.rstrip("/") + path
