"""`ied-workflow users ...` and `tokens ...`: who may call the HTTP API."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ied_workflow.cli.common import JSON, workflow
from ied_workflow.cli.output import console, emit_json, say
from ied_workflow.domain import Role

users_app = typer.Typer(help="API users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (shown once, stored as a hash).", no_args_is_help=True)


EMAIL = typer.Argument(..., help="The user's email.", show_default=False)
TOKEN_ID = typer.Argument(..., help="The token's id (see `tokens list`).", show_default=False)


class RoleName(StrEnum):
    VIEWER = Role.VIEWER.value
    OPERATOR = Role.OPERATOR.value
    ADMIN = Role.ADMIN.value


@users_app.command("add")
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


@users_app.command("list")
def list_users(as_json: bool = JSON) -> None:
    """Every user, by email."""
    rows = workflow().users()
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{len(rows)} users", box=box.SIMPLE_HEAD)
    for header in ("email", "role", "password", "disabled", "created"):
        table.add_column(header)
    for user in rows:
        created = user.created_at.isoformat(timespec="seconds")
        password = "yes" if user.has_password else "-"
        disabled = "disabled" if user.disabled else "-"
        table.add_row(Text(user.email), user.role, password, disabled, created)
    console.print(table)


@users_app.command("disable")
def disable_user(email: str = EMAIL) -> None:
    """Refuse the user's tokens from their next request on."""
    user = workflow().disable_user(email)
    say(f"user {user.email} is disabled")


@tokens_app.command("create")
def create_token(
    email: str = EMAIL,
    name: str | None = typer.Option(None, "--name", help="What the token is for."),
    as_json: bool = JSON,
) -> None:
    """Make a token and print it once (stdout), so `TOKEN=$(...)` captures it."""
    made = workflow().create_token(email, name=name)
    if as_json:
        emit_json({"token": made.token, "id": made.id})
        return
    print(made.token)
    print(f"token {made.id} for {email}: store it now, it is not shown again", file=sys.stderr)


@tokens_app.command("list")
def list_tokens(as_json: bool = JSON) -> None:
    """Every token with its user; never the token itself."""
    rows = workflow().tokens()
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{len(rows)} tokens", box=box.SIMPLE_HEAD)
    for header in ("id", "user", "name", "created", "revoked"):
        table.add_column(header)
    for token in rows:
        revoked = token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "-"
        created = token.created_at.isoformat(timespec="seconds")
        table.add_row(
            str(token.id), Text(token.user_email), Text(token.name or "-"), created, revoked
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(token_id: int = TOKEN_ID) -> None:
    """Refuse the token from its next request on."""
    token = workflow().revoke_token(token_id)
    say(f"token {token.id} of {token.user_email} is revoked")
