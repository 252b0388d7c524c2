"""Errors an operator meets first: bad settings, bad revisions, downgrades, negative ids."""

from __future__ import annotations

import pytest

from tests.support.cli import Cli


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("IED_OPS_TIMEZONE", "Mars/Olympus", "invalid setting IED_OPS_TIMEZONE: unknown timezone"),
        ("IED_DATABASE_URL", "mysql://u:hunter2@db/x", "unsupported database 'mysql'"),
        ("IED_DATABASE_URL", "not a url", "invalid setting IED_DATABASE_URL"),
        ("IED_SMTP_PORT", "twenty-five", "invalid setting IED_SMTP_PORT"),
        ("IED_LOG_FORMAT", "xml", "invalid setting IED_LOG_FORMAT"),
    ],
)
def test_invalid_setting_is_one_line_exit_2_naming_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = cli("followup", "list")
    assert result.code == 2 and one_line(result.err) and says in result.err
    assert "hunter2" not in result.err  # a setting's value may be a secret: never echoed


def test_postgresql_url_without_a_driver_uses_psycopg() -> None:
    from config.settings import Settings

    url = Settings(database_url="postgresql://u:p@h/d", _env_file=None).database_url  # type: ignore[call-arg]
    assert url == "postgresql+psycopg://u:p@h/d"


def test_unknown_revision_is_bad_input(cli: Cli) -> None:
    result = cli("db", "upgrade", "nope")
    assert result.code == 2 and one_line(result.err) and "unknown revision 'nope'" in result.err


@pytest.mark.parametrize("revision", ["base", "0003", "0005"])
def test_downgrade_is_refused_and_changes_nothing(cli: Cli, revision: str) -> None:
    result = cli("db", "upgrade", revision)
    assert result.code == 3 and one_line(result.err) and "downgrades are refused" in result.err
    assert cli("db", "upgrade").out.strip() == "database schema at 0007 (head)"


def test_upgrade_to_the_current_revision_is_fine(cli: Cli) -> None:
    assert cli("db", "upgrade", "0007").code == 0


def test_negative_id_is_bad_input_not_an_unknown_option(cli: Cli) -> None:
    result = cli("followup", "show", "-1")
    assert result.code == 2 and one_line(result.err)
    assert result.err == "error: -1 is not a valid value: ids are positive whole numbers\n"


NUMBERS = [
    "IED_DEFAULT_DUE_DAYS",
    "IED_OVERDUE_REMINDER_HOURS",
    "IED_ALERT_BACKLOG_HOURS",
    "IED_SMTP_TIMEOUT_SECONDS",
    "IED_SLACK_TIMEOUT_SECONDS",
    "IED_STALE_CONTACT_DAYS",
    "IED_DASHBOARD_COUNTS_SECONDS",
]


@pytest.mark.parametrize("variable", NUMBERS)
@pytest.mark.parametrize("value", ["1e400", "inf", "nan", "1e9"])
def test_numeric_settings_refuse_infinity_and_spans_no_date_can_hold(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    # Given a span so large that a date computed from it could not be shown (or infinite)
    monkeypatch.setenv(variable, value)
    # When any command reads the settings
    result = cli("followup", "list")
    # Then it is refused in one line that names the variable, before anything runs
    assert result.code == 2 and one_line(result.err)
    assert f"invalid setting {variable}: " in result.err and value not in result.err
