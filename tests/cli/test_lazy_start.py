"""A command loads only what it uses: each runs in a fresh process, which reports the
modules it imported. No timing here (benchmarks/cli_start.py times the starts)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from ied_workflow.cli.main import COMMANDS, app, build

# Runs `ied-workflow ARGS...` in this process, then writes its exit code and every module
# it imported to the file named by $MODULES_FILE.
PROBE = """
import json, os, sys
from ied_workflow.cli.main import main
sys.argv = ["ied-workflow", *sys.argv[1:]]
try:
    main()
except SystemExit as exited:
    code = exited.code
with open(os.environ["MODULES_FILE"], "w") as file:
    json.dump({"code": code, "modules": sorted(sys.modules)}, file)
"""
# Builds each command named (imports its module, as running it would), then reports
# which of them left Alembic in sys.modules.
BUILD_PROBE = """
import json, sys
from ied_workflow.cli.main import build
loads_alembic = []
for name in sys.argv[1:]:
    build(name)
    if "alembic" in sys.modules:
        loads_alembic.append(name)
        break
print(json.dumps(loads_alembic))
"""
CHANNELS = ("slack_sdk", "jinja2", "smtplib")  # what only sending an alert needs
COMMAND_MODULES = {f"ied_workflow.cli.{name}" for name in COMMANDS}
# `demo` makes its scratch database with the migrations, as `db upgrade` does.
MIGRATING = {"db", "demo"}


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> str:
    """A SQLite database with lead L-1 and its follow-up 1."""
    path = tmp_path / "ied.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    for args in (
        ("leads", "upsert", "L-1", "--status", "assigned", "--installer", "I-1"),
        ("followup", "create", "L-1", "--by", "ops@ied.example"),
    ):
        assert probe(tmp_path, url, *args).code == 0
    return url


@dataclass
class Probed:
    code: int
    modules: set[str]
    err: str


def probe(folder: Path, url: str, *args: str, **env: str) -> Probed:
    """`ied-workflow ARGS` in a fresh process: its exit code, the modules it imported."""
    report = folder / "modules.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IED_")}
    environment |= {"IED_DATABASE_URL": url, "MODULES_FILE": str(report), **env}
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(report.read_text())
    return Probed(found["code"] or 0, set(found["modules"]), ran.stderr)


def test_version_loads_neither_the_database_nor_the_settings(tmp_path: Path) -> None:
    shown = probe(tmp_path, "sqlite:///nowhere.db", "--version")
    assert shown.code == 0
    assert {"sqlalchemy", "alembic", "pydantic", "config.settings"}.isdisjoint(shown.modules)
    assert COMMAND_MODULES.isdisjoint(shown.modules)


def test_help_lists_the_commands_without_importing_them(tmp_path: Path) -> None:
    shown = probe(tmp_path, "sqlite:///nowhere.db", "--help")
    assert shown.code == 0
    assert {"sqlalchemy", "alembic", "config.settings"}.isdisjoint(shown.modules)
    assert COMMAND_MODULES.isdisjoint(shown.modules)


def test_only_db_commands_import_alembic(tmp_path: Path, database: str) -> None:
    # `followup show` runs without Alembic, the alert channels or the other commands
    shown = probe(tmp_path, database, "followup", "show", "1")
    assert shown.code == 0
    assert "alembic" not in shown.modules
    assert set(CHANNELS).isdisjoint(shown.modules)
    assert COMMAND_MODULES & shown.modules == {"ied_workflow.cli.followup"}
    # and no command's module but those that migrate imports Alembic...
    others = [name for name in COMMANDS if name not in MIGRATING]
    assert loads_alembic(tmp_path, *others) == []
    # ...which the probe would see: `db` does
    assert loads_alembic(tmp_path, *others, "db") == ["db"]


def loads_alembic(folder: Path, *names: str) -> list[str]:
    found = subprocess.run(
        [sys.executable, "-c", BUILD_PROBE, *names],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return list(json.loads(found.stdout))


def test_a_fresh_process_still_reports_a_bad_setting_in_one_line(
    tmp_path: Path, database: str
) -> None:
    # The settings (and their error class) are imported by the command, not by main()
    bad = {"IED_OPS_TIMEZONE": "Mars/Olympus"}
    refused = probe(tmp_path, database, "followup", "show", "1", **bad)
    assert (refused.code, refused.err) == (
        2,
        "error: invalid setting IED_OPS_TIMEZONE: unknown timezone 'Mars/Olympus'\n",
    )
    assert probe(tmp_path, database, "--version", **bad).code == 0


def test_the_root_help_shows_each_command_s_own_help() -> None:
    # COMMANDS repeats what each module says, so the help can list them unimported
    for name, short_help in COMMANDS.items():
        assert build(name).help == short_help, name
    group = typer.main.get_command(app)
    assert list(group.commands) == list(COMMANDS)  # type: ignore[attr-defined]
