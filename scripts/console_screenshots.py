"""Take the screenshots of docs/console.md: a morning's worth of follow-ups, in Chromium.

    .venv/bin/python scripts/console_screenshots.py

Seeds a scratch SQLite database at a fixed instant, serves the console on a free port
and saves docs/console-dashboard.png and docs/console-detail.png.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ied_workflow.db import engines, migrate  # noqa: E402
from ied_workflow.db.clock import FixedClock  # noqa: E402
from ied_workflow.domain import Outcome, Satisfaction  # noqa: E402
from ied_workflow.web.app import create_app  # noqa: E402
from ied_workflow.workflow import Workflow  # noqa: E402
from tests.support.browser import chromium, serving  # noqa: E402
from tests.support.data import NOW  # noqa: E402
from tests.support.settings import build_settings  # noqa: E402

PASSWORD = "screenshots only"
OPS = ["amira@ied.example", "jonas@ied.example", "lena@ied.example"]
ISSUE = "Inverter display shows error E07 since the second day."


def seed(wf: Workflow) -> int:
    """Follow-ups in every state; returns the id the detail screenshot shows."""
    plan = [  # (lead, installer, due in hours from now)
        ("L-20931", "INST-BERLIN-04", -75),
        ("L-20944", "INST-HAMBURG-01", -50),
        ("L-20950", "INST-KOELN-02", -26),
        ("L-20967", "INST-BERLIN-04", -3),
        ("L-20971", "INST-MUENCHEN-03", 2),
        ("L-20975", "INST-HAMBURG-01", 5),
        ("L-20980", "INST-KOELN-02", 30),
        ("L-20988", "INST-BERLIN-04", 52),
        ("L-20991", "INST-MUENCHEN-03", 80),
        ("L-21002", "INST-HAMBURG-01", 120),
        ("L-21010", "INST-BERLIN-04", -140),
        ("L-21013", "INST-KOELN-02", -100),
        ("L-21020", "INST-MUENCHEN-03", -90),
        ("L-21024", "INST-HAMBURG-01", -60),
    ]
    made = []
    for lead, installer, hours in plan:
        wf.upsert_lead(lead, status="assigned", installer_id=installer, now=NOW - timedelta(days=9))
        due = NOW + timedelta(hours=hours)
        made.append(wf.create(lead, by=OPS[0], due_at=due, now=NOW - timedelta(days=8)))
    at = NOW - timedelta(days=5)
    wf.log_contact(made[1].id, by=OPS[1], outcome="no_response", now=at)
    wf.log_contact(
        made[1].id,
        by=OPS[1],
        outcome="left_message",
        note="Voicemail, asked for a call back",
        now=at + timedelta(days=1),
    )
    wf.log_contact(made[7].id, by=OPS[2], outcome="attempted", now=at)
    detail = made[2]
    wf.log_contact(
        detail.id, by=OPS[1], outcome="no_response", now=NOW - timedelta(days=2, hours=3)
    )
    wf.log_contact(
        detail.id,
        by=OPS[2],
        outcome="left_message",
        note="Left a message with the daughter; customer back Thursday.",
        now=NOW - timedelta(days=1, hours=5),
    )
    wf.add_note(
        detail.id,
        text="Installer mentioned the roof access was tricky; ask about the finish.",
        by=OPS[0],
        now=NOW - timedelta(hours=20),
    )
    for number, follow_up in enumerate(made[10:]):
        wf.log_contact(follow_up.id, by=OPS[number % 3], outcome="reached_customer", now=at)
        issue = number % 2 == 0
        outcome = Outcome(
            has_issue=issue,
            satisfaction=None if issue else Satisfaction.SATISFIED,
            issue_summary=ISSUE if issue else None,
        )
        wf.record_outcome(follow_up.id, by=OPS[number % 3], outcome=outcome, now=at)
    return detail.id


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="ied-console-shots-"))
    url = f"sqlite:///{folder / 'console.db'}"
    migrate.upgrade(url)
    settings = build_settings(url, secret_key="screenshots-" * 4, ops_timezone="Europe/Berlin")
    wf = Workflow(engines.make_engine(url), settings, clock=FixedClock(NOW))
    wf.add_user(OPS[0], role="admin", password=PASSWORD)
    detail = seed(wf)
    with serving(create_app(wf)) as base, chromium() as browser:
        page = browser.new_page(base_url=base, viewport={"width": 1360, "height": 900})
        page.goto("/login")
        page.get_by_label("Email").fill(OPS[0])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        page.screenshot(path=str(ROOT / "docs" / "console-dashboard.png"), full_page=True)
        page.goto(f"/follow-ups/{detail}")
        page.screenshot(path=str(ROOT / "docs" / "console-detail.png"), full_page=True)
        page.goto("/follow-ups?overdue=true")
        page.screenshot(path=str(ROOT / "docs" / "console-list.png"), full_page=True)


if __name__ == "__main__":
    main()
