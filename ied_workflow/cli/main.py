"""Entry point: wires the sub-commands and turns errors into one line and an exit code."""

from __future__ import annotations

import contextlib
import re
import sys
from importlib.metadata import version

import typer
from sqlalchemy.exc import DBAPIError

from config import logs
from config.settings import InvalidSettings, get_settings
from ied_workflow import states
from ied_workflow.cli import accounts, followup, leads, maintenance, ops, serve
from ied_workflow.errors import IedWorkflowError, NotFound, RuleViolation, ValidationError

app = typer.Typer(
    help="IED post-delivery follow-up workflow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(followup.app, name="followup")
app.add_typer(leads.app, name="leads")
app.add_typer(maintenance.db_app, name="db")
app.add_typer(maintenance.audit_app, name="audit")
app.add_typer(ops.scan_app, name="scan")
app.add_typer(ops.notifications_app, name="notifications")
app.add_typer(ops.tasks_app, name="tasks")
app.add_typer(ops.notify_app, name="notify")
app.add_typer(accounts.users_app, name="users")
app.add_typer(accounts.tokens_app, name="tokens")
app.command("serve")(serve.serve)
app.command("dashboard")(ops.dashboard)


def _print_version(asked: bool) -> None:
    if asked:
        print(f"ied-workflow {version('ied-workflow')}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
) -> None:
    """IED post-delivery follow-up workflow."""


@app.command()
def diagram() -> None:
    """Print the state diagram (Mermaid), drawn from the machine itself."""
    print(states.mermaid_diagram())


@app.command()
def demo(
    database: str = typer.Option("", help="SQLite file to use (default: a fresh temporary one)."),
) -> None:
    """Seed a fresh SQLite database and walk every scenario of the V1 contract."""
    from ied_workflow.cli.demo import run_demo

    run_demo(database or None)


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
    _configure_logging()
    try:
        result = command.main(prog_name="ied-workflow", standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: bad option, value, missing argument
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]  # the help text the user asked for by typing nothing
            sys.exit(exc.exit_code)
        fail(_usage_problem(exc), exc.exit_code)
    except InvalidSettings as exc:
        fail(str(exc), 2)
    except typer.Abort:
        fail("aborted", 1)
    except IedWorkflowError as exc:
        fail(str(exc), exit_code(exc))
    except DBAPIError as exc:
        fail(_database_problem(exc), 1)
    sys.exit(result if isinstance(result, int) else 0)


def _configure_logging() -> None:
    """WARNING and above on stderr (IED_LOG_LEVEL to change); bad settings are reported
    by the command that reads them, as one line."""
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
