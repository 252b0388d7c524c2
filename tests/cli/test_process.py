"""The installed command as a separate process, the way a newcomer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ied_workflow", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_runs_with_no_services_at_all(tmp_path: Path) -> None:
    # Unreachable PostgreSQL and Redis URLs prove the demo needs neither.
    result = run(
        "demo",
        cwd=tmp_path,
        IED_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x",
        IED_REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode == 0, result.stderr
    for scenario in (
        "refused (LeadNotEligible)",
        "refused (DuplicateFollowUp)",
        "refused (GuardFailed)",
        "in_progress",
        "completed",
        "closed_with_issue",
        "lead rows byte-for-byte unchanged: True",
        "dashboard counts",
    ):
        assert scenario in result.stdout
    assert list(tmp_path.iterdir()) == []  # the demo's database was temporary


def test_default_database_is_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    assert run("db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / "ied_workflow.db").exists()
    result = run("followup", "list", "--json", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "[]")


def test_missing_schema_says_how_to_fix_it(tmp_path: Path) -> None:
    (tmp_path / "ied_workflow.db").touch()  # a database file without the schema
    result = run("followup", "show", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "error: the database has no schema yet: run `ied-workflow db upgrade`\n"


def test_read_only_command_in_an_empty_folder_creates_no_database(tmp_path: Path) -> None:
    result = run("followup", "list", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "error: no database here (ied_workflow.db): run `ied-workflow db upgrade`\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_bad_input_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    run("db", "upgrade", cwd=tmp_path)
    result = run(
        "followup", "contact", "1", "--outcome", "bogus", "--by", "a@b.example", cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
