"""The issue's "done means": follow-ups that go overdue under a running worker with beat
reach the local Slack and SMTP servers exactly once, within a few scan intervals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import done_means
from tests.support.slack import FakeSlack
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_worker_with_beat_alerts_each_follow_up_that_goes_overdue_exactly_once(
    namespace: str, postgres_database: str, slack: FakeSlack, smtp: SmtpSink, tmp_path: Path
) -> None:
    # Given a worker with embedded beat (scan every 2 s, dispatch every 1 s)
    # When follow-ups go overdue while it runs, and it keeps running three more scans
    report = done_means.run(postgres_database, namespace, tmp_path, slack, smtp)
    print("\n" + report.transcript())

    # Then Slack and SMTP each received one overdue alert listing every one of them
    [post] = report.overdue_posts()
    [email] = report.overdue_emails()
    assert sorted(post.follow_up_ids) == report.follow_up_ids
    assert sorted(email.follow_up_ids) == report.follow_up_ids
    # ...nothing else, and the outbox holds one sent row per follow-up per channel
    assert (len(report.slack), len(report.emails)) == (1, 1)
    rows = sorted((r["follow_up_id"], r["channel"], r["status"]) for r in report.outbox)
    assert rows == sorted(
        (follow_up, channel, "sent")
        for follow_up in report.follow_up_ids
        for channel in ("slack", "email")
    )
    assert "Traceback" not in report.worker_log
