"""`ied-workflow users` and `tokens`: accounts for the HTTP API."""

from __future__ import annotations

import io
import json
import sys

import pytest

from tests.support.cli import Cli


def test_users_add_list_and_disable(cli: Cli) -> None:
    assert cli("users", "add", "Ops@IED.example", "--role", "operator").code == 0
    listed = json.loads(cli("users", "list", "--json").out)
    assert [(u["email"], u["role"], u["disabled"]) for u in listed] == [
        ("ops@ied.example", "operator", False)
    ]
    assert cli("users", "disable", "ops@ied.example").code == 0
    assert json.loads(cli("users", "list", "--json").out)[0]["disabled"] is True


def test_a_password_is_read_from_stdin_and_never_printed(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    added = cli("users", "add", "a@ied.example", "--role", "admin", "--password-stdin", "--json")
    assert added.code == 0 and json.loads(added.out)["hasPassword"] is True
    assert "correct horse" not in added.out + cli("users", "list").out


def test_user_errors_are_one_line_with_their_exit_code(cli: Cli) -> None:
    cli("users", "add", "a@ied.example", "--role", "viewer")
    for args, code in (
        (("users", "add", "a@ied.example", "--role", "viewer"), 3),
        (("users", "add", "not-an-email", "--role", "viewer"), 2),
        (("users", "add", "b@ied.example", "--role", "root"), 2),
        (("users", "disable", "nobody@ied.example"), 4),
    ):
        result = cli(*args)
        assert result.code == code, (args, result.err)
        assert result.err.startswith("error: ") and result.err.count("\n") == 1


def test_tokens_are_printed_once_and_listed_without_the_token(cli: Cli) -> None:
    cli("users", "add", "bot@ied.example", "--role", "operator")
    made = json.loads(cli("tokens", "create", "bot@ied.example", "--name", "crm", "--json").out)
    assert set(made) == {"token", "id"} and made["token"].startswith("iedw_")
    plain = cli("tokens", "create", "bot@ied.example")
    assert plain.out.strip().startswith("iedw_") and plain.out.count("\n") == 1
    listing = cli("tokens", "list", "--json").out
    assert made["token"] not in listing and plain.out.strip() not in listing
    assert [t["name"] for t in json.loads(listing)] == ["crm", None]


def test_tokens_revoke_and_refusals(cli: Cli) -> None:
    cli("users", "add", "bot@ied.example", "--role", "viewer")
    made = json.loads(cli("tokens", "create", "bot@ied.example", "--json").out)
    assert cli("tokens", "revoke", str(made["id"])).code == 0
    assert json.loads(cli("tokens", "list", "--json").out)[0]["revokedAt"] is not None
    assert cli("tokens", "revoke", "999").code == 4
    assert cli("tokens", "create", "nobody@ied.example").code == 4
    cli("users", "disable", "bot@ied.example")
    assert cli("tokens", "create", "bot@ied.example").code == 3


def test_users_and_tokens_lists_show_times_in_the_ops_timezone(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given operations in India (no daylight saving), and a user with a revoked token
    monkeypatch.setenv("IED_OPS_TIMEZONE", "Asia/Kolkata")
    cli("users", "add", "bot@ied.example", "--role", "viewer")
    made = json.loads(cli("tokens", "create", "bot@ied.example", "--json").out)
    cli("tokens", "revoke", str(made["id"]))
    # When people list them
    users, tokens = cli("users", "list").out, cli("tokens", "list").out
    # Then every time is in the ops timezone and says so, as everywhere else
    assert "IST" in users and "UTC" not in users and "+00:00" not in users
    assert tokens.count("IST") == 2 and "UTC" not in tokens and "+00:00" not in tokens
