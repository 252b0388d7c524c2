"""`ied-workflow tokens ...`: API tokens, shown once and stored as a hash."""

from __future__ import annotations

import sys

import typer

from config.settings import get_settings
from ied_workflow.cli.common import JSON, workflow
from ied_workflow.cli.output import emit_json, local, print_table, say

app = typer.Typer(help="API tokens (shown once, stored as a hash).", no_args_is_help=True)

EMAIL = typer.Argument(..., help="The user's email.", show_default=False)
TOKEN_ID = typer.Argument(..., help="The token's id (see `tokens list`).", show_default=False)


@app.command("create")
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


@app.command("list")
def list_tokens(as_json: bool = JSON) -> None:
    """Every token with its user; never the token itself."""
    rows = workflow().tokens()
    if as_json:
        emit_json(rows)
        return
    zone = get_settings().zone
    cells = [
        [
            str(token.id),
            token.user_email,
            token.name or "-",
            local(token.created_at, zone),
            local(token.revoked_at, zone),
        ]
        for token in rows
    ]
    print_table(f"{len(rows)} tokens", ("id", "user", "name", "created", "revoked"), cells)


@app.command("revoke")
def revoke_token(token_id: int = TOKEN_ID) -> None:
    """Refuse the token from its next request on."""
    token = workflow().revoke_token(token_id)
    say(f"token {token.id} of {token.user_email} is revoked")
