"""`ied-workflow users ...`: who may call the HTTP API and sign in to the console."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from config.settings import get_settings
from ied_workflow.cli.common import JSON, workflow
from ied_workflow.cli.output import emit_json, local, print_table, say
from ied_workflow.domain import Role

app = typer.Typer(help="API users and their roles.", no_args_is_help=True)

EMAIL = typer.Argument(..., help="The user's email.", show_default=False)


class RoleName(StrEnum):
    VIEWER = Role.VIEWER.value
    OPERATOR = Role.OPERATOR.value
    ADMIN = Role.ADMIN.value


@app.command("add")
def add_user(
    email: str = EMAIL,
    role: RoleName = typer.Option(..., "--role", help="viewer reads; operator acts; admin too."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read a password from stdin (for the console)."
    ),
    as_json: bool = JSON,
) -> None:
    """Add a user; without a password it is a token-only account."""
    password = sys.stdin.read().rstrip("\r\n") if password_stdin else None
    user = workflow().add_user(email, role=role.value, password=password)
    emit_json(user) if as_json else say(f"user {user.email} added as {user.role}")


@app.command("list")
def list_users(as_json: bool = JSON) -> None:
    """Every user, by email."""
    rows = workflow().users()
    if as_json:
        emit_json(rows)
        return
    zone = get_settings().zone
    cells = [
        [
            user.email,
            user.role,
            "yes" if user.has_password else "-",
            "disabled" if user.disabled else "-",
            local(user.created_at, zone),
        ]
        for user in rows
    ]
    print_table(f"{len(rows)} users", ("email", "role", "password", "disabled", "created"), cells)


@app.command("disable")
def disable_user(email: str = EMAIL) -> None:
    """Refuse the user's tokens from their next request on."""
    user = workflow().disable_user(email)
    say(f"user {user.email} is disabled")
