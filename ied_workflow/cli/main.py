"""Entry point: names the sub-commands and turns errors into one line and an exit code.

Each command lives in the module named after it (`ied_workflow/cli/followup.py` holds
`followup ...`), imported only when that command runs: `--version` and `--help` load
typer and nothing of ied-workflow's stack, `followup show` no Alembic, no alert channels.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from ied_workflow.errors import IedWorkflowError, NotFound, RuleViolation, ValidationError

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter  # typer vendors its own click

# Every command of `ied-workflow`, in the order `--help` lists them, with the short help
# it shows there (the help of the module's Typer, or the command's docstring; a test
# checks they agree). Module `ied_workflow.cli.NAME` holds a Typer `app` for a group, or
# a function NAME for a single command.
COMMANDS: dict[str, str] = {
    "serve": "Run the HTTP API (/api/v1, /healthz, /readyz, /metrics); needs IED_SECRET_KEY.",
    "dashboard": "The dashboard's counts: due today, overdue, by status, issues.",
    "diagram": "Print the state diagram (Mermaid), drawn from the machine itself.",
    "demo": "Seed a fresh SQLite database and walk every scenario of the V1 contract.",
    "followup": "Create, work and inspect follow-ups.",
    "leads": "Leads as the host application knows them (read-only to follow-ups).",
    "db": "Database schema.",
    "audit": "Audit trail checks.",
    "scan": "Scans the scheduler runs.",
    "notifications": "Alerts and their delivery per channel.",
    "tasks": "Celery tasks, sent by name through the broker.",
    "notify": "Check a notification channel.",
    "users": "API users and their roles.",
    "tokens": "API tokens (shown once, stored as a hash).",
}


def build(name: str) -> Command:
    """Command `name` as typer builds it under the root: its module is imported here."""
    module = import_module(f"ied_workflow.cli.{name}")
    # With the root's settings, which typer hands down to the commands under it.
    holder = typer.Typer(
        pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None
    )
    group = getattr(module, "app", None)
    if isinstance(group, typer.Typer):
        holder.add_typer(group, name=name)
    else:
        holder.command(name)(getattr(module, name))
    return typer.main.get_group(holder).commands[name]


class Commands(MutableMapping[str, "Command"]):
    """The root's sub-commands by name: every name known at once, each command built (its
    module imported) the first time it is looked up."""

    def __init__(self, built: MutableMapping[str, Command]) -> None:
        self.built = dict(built)

    def __getitem__(self, name: str) -> Command:
        if name not in self.built:
            if name not in COMMANDS:
                raise KeyError(name)
            self.built[name] = build(name)
        return self.built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("the commands of ied-workflow are fixed")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> dict[str, None]:
        return dict.fromkeys([*COMMANDS, *self.built])


class LazyGroup(TyperGroup):
    """The root command: runs a sub-command after importing its module only, and lists
    them all in `--help` from COMMANDS without importing any."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = Commands(self.commands)
        self.listing = False  # True while the help lists the sub-commands

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # the names only: TyperGroup's would build each command

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if self.listing and cmd_name in COMMANDS:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name])  # its name and help only
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    cls=LazyGroup,
    # Help as click writes it: loading typer's rich panels cost more than the rest of --help.
    rich_markup_mode=None,
    help="IED post-delivery follow-up workflow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version  # only --version reads the package's metadata

        print(f"ied-workflow {version('ied-workflow')}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
) -> None:
    """IED post-delivery follow-up workflow."""
    _configure_logging()  # before any sub-command runs; --version and --help exit earlier


EXIT_CODES: list[tuple[type[IedWorkflowError], int]] = [
    (ValidationError, 2),
    (RuleViolation, 3),
    (NotFound, 4),
]


def exit_code(error: IedWorkflowError) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), 1)


def fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def main() -> None:
    """Run the CLI: exit 0 ok, 2 bad input, 3 refused by a rule, 4 not found, 1 other."""
    command = typer.main.get_command(app)
    try:
        result = command.main(prog_name="ied-workflow", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: bad option, value, missing argument
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]  # the help text the user asked for by typing nothing
            sys.exit(exc.exit_code)
        fail(_usage_problem(exc), exc.exit_code)
    except typer.Abort:
        fail("aborted", 1)
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        fail(*failure)
    sys.exit(result if isinstance(result, int) else 0)


def _failure(exc: Exception) -> tuple[str, int] | None:
    """The line and exit code for an error ied-workflow reports, None for any other.

    A bad setting and a database error are classes of modules a command may not have
    loaded (pydantic settings, SQLAlchemy); a module never imported raised nothing.
    """
    invalid = _loaded("config.settings", "InvalidSettings")
    if invalid is not None and isinstance(exc, invalid):
        return str(exc), 2
    if isinstance(exc, IedWorkflowError):
        return str(exc), exit_code(exc)
    dbapi_error = _loaded("sqlalchemy.exc", "DBAPIError")
    if dbapi_error is not None and isinstance(exc, dbapi_error):
        return _database_problem(exc), 1
    return None


def _loaded(module: str, name: str) -> type[Exception] | None:
    """Class `name` of `module` if something imported that module, without importing it."""
    found = sys.modules.get(module)
    return getattr(found, name, None) if found is not None else None


def _configure_logging() -> None:
    """WARNING and above on stderr (IED_LOG_LEVEL to change); bad settings are reported
    by the command that reads them, as one line."""
    # Loaded by the commands, not by --version or --help: settings import pydantic.
    from config import logs
    from config.settings import InvalidSettings, get_settings

    with contextlib.suppress(InvalidSettings):
        logs.configure(get_settings())


def _usage_problem(exc: typer.TyperException) -> str:
    """Click's message on one line; it reads `-1` as an unknown option, so say what it is."""
    option = getattr(exc, "option_name", None)  # NoSuchOption (typer vendors its own click)
    if option and re.fullmatch(r"-\d+", option):
        return f"{option} is not a valid value: ids are positive whole numbers"
    return exc.format_message().replace("\n", " ")


def _database_problem(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).splitlines()[0]
    if "no such table" in text or ('relation "' in text and "does not exist" in text):
        return "the database has no schema yet: run `ied-workflow db upgrade`"
    return f"database error: {text}"
