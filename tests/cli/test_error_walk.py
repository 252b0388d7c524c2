"""Every command, walked with bad settings, services down and bad arguments.

For each: one line on stderr, the documented exit code (2 bad input, 3 refused by a
rule, 4 not found, 1 a service missing), no traceback, and nothing written.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from config.settings import get_settings
from ied_workflow.cli.main import app
from ied_workflow.db import engines
from tests.support.cli import Cli, Run, cli_runner
from tests.support.database import snapshot

OPS = "ops@ied.example"
# Each command with arguments that parse (and succeed on the seeded database).
COMMANDS: dict[str, list[str]] = {
    "followup create": ["L-2", "--by", OPS],
    "followup start": ["1", "--by", OPS],
    "followup contact": ["1", "--outcome", "attempted", "--by", OPS],
    "followup outcome": ["1", "--by", OPS, "--no-issue", "--satisfaction", "satisfied"],
    "followup resolve-issue": ["1", "--by", OPS],
    "followup reschedule": ["1", "--due", "2026-12-01", "--by", OPS],
    "followup note": ["1", "--text", "a note", "--by", OPS],
    "followup show": ["1"],
    "followup history": ["1"],
    "followup list": [],
    "leads upsert": ["L-3", "--status", "assigned"],
    "leads show": ["L-1"],
    "db upgrade": [],
    "audit verify": [],
    "scan overdue": [],
    "notifications dispatch": [],
    "notifications list": [],
    "notifications retry": ["1"],
    "tasks send": ["ied.scan_overdue"],
    "notify test": ["--channel", "console"],
    "users add": ["a@ied.example", "--role", "viewer"],
    "users list": [],
    "users disable": ["a@ied.example"],
    "tokens create": ["a@ied.example"],
    "tokens list": [],
    "tokens revoke": ["1"],
    "serve": [],
    "dashboard": [],
    "diagram": [],
    "demo": [],
}
READS_NO_SETTINGS = {"diagram"}
NO_DATABASE = {"db upgrade", "demo", "diagram", "tasks send"}  # make their own, or need none
# Each command with a bad argument, and the exit code it must end with.
BAD_ARGUMENTS: dict[str, tuple[list[str], int]] = {
    "followup create": (["L-1", "--by", "not-an-email"], 2),
    "followup start": (["-1", "--by", OPS], 2),
    "followup contact": (["1", "--outcome", "bogus", "--by", OPS], 2),
    "followup outcome": (["1", "--by", OPS], 2),
    "followup resolve-issue": (["999", "--by", OPS], 4),
    "followup reschedule": (["1", "--due", "tomorrow", "--by", OPS], 2),
    "followup note": (["999", "--text", "x", "--by", OPS], 4),
    "followup show": (["-1"], 2),
    "followup history": (["0"], 2),
    "followup list": (["--status", "bogus"], 2),
    "leads upsert": (["bad id!", "--status", "assigned"], 2),
    "leads show": (["L-404"], 4),
    "db upgrade": (["nope"], 2),
    "audit verify": (["--bogus"], 2),
    "scan overdue": (["--now", "yesterday"], 2),
    "notifications dispatch": (["--now", "x"], 2),
    "notifications list": (["--status", "lost"], 2),
    "notifications retry": (["999"], 4),
    "tasks send": (["ied.nope"], 2),
    "notify test": (["--channel", "pigeon"], 2),
    "users add": (["not-an-email", "--role", "viewer"], 2),
    "users list": (["extra"], 2),
    "users disable": (["nobody@ied.example"], 4),
    "tokens create": (["nobody@ied.example"], 4),
    "tokens list": (["--bogus"], 2),
    "tokens revoke": (["999"], 4),
    "serve": (["--port", "0"], 2),
    "dashboard": (["--now", "x"], 2),
    "diagram": (["extra"], 2),
    "demo": (["--bogus"], 2),
}


def leaves(command: object, path: tuple[str, ...] = ()) -> Iterator[str]:
    children = getattr(command, "commands", None)
    if not children:
        yield " ".join(path)
        return
    for name, child in children.items():
        yield from leaves(child, (*path, name))


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = engines.make_engine(url)
    try:
        return snapshot(engine)
    finally:
        engine.dispose()


def one_line_error(result: Run, code: int) -> None:
    assert result.code == code, result
    assert result.err.count("\n") == 1 and result.err.startswith("error: "), result.err
    assert "Traceback" not in result.err + result.out


@pytest.fixture
def seeded(
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[tuple[Cli, str]]:
    """The CLI on a SQLite database with lead L-1 and its follow-up 1."""
    path = tmp_path / "ied.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    for cli in cli_runner(url, monkeypatch, capsys):
        monkeypatch.delenv("IED_SECRET_KEY", raising=False)
        assert cli("leads", "upsert", "L-1", "--status", "assigned", "--installer", "I-1").code == 0
        assert cli("followup", "create", "L-1", "--by", OPS).code == 0
        yield cli, url


def setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def test_the_walk_covers_every_command() -> None:
    commands = set(leaves(typer.main.get_command(app)))
    assert set(COMMANDS) == commands == set(BAD_ARGUMENTS)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("IED_OPS_TIMEZONE", "Mars/Olympus"), ("IED_DATABASE_URL", "mysql://u:pw@db/x")],
)
def test_every_command_refuses_a_bad_setting_in_one_line(
    seeded: tuple[Cli, str], monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    cli, url = seeded
    before = rows(url)
    setting(monkeypatch, variable, value)
    for command, args in COMMANDS.items():
        result = cli(*command.split(), *args)
        if command in READS_NO_SETTINGS:
            assert result.code == 0, command
            continue
        one_line_error(result, 2)
        assert f"invalid setting {variable}" in result.err, command
    assert rows(url) == before


def test_every_command_in_a_folder_without_a_database_says_so_and_creates_none(
    seeded: tuple[Cli, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli, _ = seeded
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    monkeypatch.delenv("IED_DATABASE_URL")
    monkeypatch.setenv("IED_SECRET_KEY", "a-secret-for-serve-to-get-past-its-check")
    get_settings.cache_clear()
    for command, args in COMMANDS.items():
        if command in NO_DATABASE:
            continue
        result = cli(*command.split(), *args)
        one_line_error(result, 1)
        assert "no database here (ied_workflow.db): run `ied-workflow db upgrade`" in result.err
    assert list(empty.iterdir()) == []


def test_every_command_with_its_database_down_is_one_line_exit_1(
    seeded: tuple[Cli, str], monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    cli, _ = seeded
    setting(monkeypatch, "IED_DATABASE_URL", f"postgresql+psycopg://u:pw@127.0.0.1:{closed_port}/x")
    for command, args in COMMANDS.items():
        if command in NO_DATABASE | {"serve"}:  # serve would start serving: see the next test
            continue
        result = cli(*command.split(), *args)
        one_line_error(result, 1)
        assert "database error: connection failed" in result.err and "pw" not in result.err


def test_serve_refuses_to_start_without_its_secret_key(seeded: tuple[Cli, str]) -> None:
    cli, _ = seeded
    one_line_error(cli("serve"), 2)


def test_sending_a_task_with_redis_down_fails_fast_in_one_line(
    seeded: tuple[Cli, str], monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    from celery import _state

    import config.celery_app

    cli, _ = seeded
    saved = (_state.default_app, _state._tls.current_app)  # a new app becomes the current one
    redis_down = config.celery_app.make_app(
        get_settings().model_copy(update={"redis_url": f"redis://:pw@127.0.0.1:{closed_port}/0"})
    )
    _state.set_default_app(saved[0])
    _state._tls.current_app = saved[1]
    monkeypatch.setattr(config.celery_app, "app", redis_down)
    started = time.monotonic()
    result = cli("tasks", "send", "ied.scan_overdue")
    one_line_error(result, 1)
    assert time.monotonic() - started < 10
    assert f"broker redis://:**@127.0.0.1:{closed_port}/0 unreachable" in result.err


def test_every_command_refuses_a_bad_argument_and_writes_nothing(seeded: tuple[Cli, str]) -> None:
    cli, url = seeded
    before = rows(url)
    for command, (args, code) in BAD_ARGUMENTS.items():
        one_line_error(cli(*command.split(), *args), code)
    assert rows(url) == before
