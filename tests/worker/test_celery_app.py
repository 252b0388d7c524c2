"""The product's Celery app as `celery -A workers` loads it: its report masks secrets."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.processes import ROOT


def test_celery_report_masks_every_url_password() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
    env["IED_REDIS_URL"] = "redis://:s3cret-pass@127.0.0.1:6379/0"
    report = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers", "report"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 0, report.stderr
    assert "redbeat_redis_url: 'redis://:***@127.0.0.1:6379/0'" in report.stdout
    assert "s3cret-pass" not in report.stdout + report.stderr
