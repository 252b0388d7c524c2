"""The real `ied-workflow` entry point run in-process, as a shell would run it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from config.settings import get_settings
from ied_workflow.cli.main import main


@dataclass
class Run:
    """What one command printed and returned."""

    code: int
    out: str
    err: str


Cli = Callable[..., Run]


def cli_runner(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """The body of the `cli` fixture: the command on `database_url`, channels unset."""
    monkeypatch.setenv("IED_DATABASE_URL", database_url)
    for name in ("IED_SLACK_WEBHOOK_URL", "IED_SMTP_HOST", "IED_OPS_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()

    def run(*args: str) -> Run:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["ied-workflow", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return Run(int(exited.value.code or 0), captured.out, captured.err)

    yield run
    get_settings.cache_clear()
