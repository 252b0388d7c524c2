"""Every setting of ied-workflow, read from IED_* environment variables or `.env`.

This is the only module that reads the environment.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

CommaList = Annotated[list[str], NoDecode]
# The drivers installed with ied-workflow; a bare postgresql:// would ask for psycopg2.
DATABASE_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class InvalidSettings(ValueError):
    """Raised when an IED_* variable holds a value ied-workflow cannot use; one line."""


DAYS_MAX = 36_500  # a century: spans in days and hours stay far from datetime's limits
HOURS_MAX = 24 * DAYS_MAX
SECONDS_MAX = 86_400  # intervals, leases and caches of at most a day
TIMEOUT_MAX = 600  # a network call that takes longer has failed
BATCH_MAX = 1_000_000


class Settings(BaseSettings):
    """ied-workflow configuration; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_prefix="IED_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///ied_workflow.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    ops_timezone: str = "UTC"  # "today" for the due filter and the digest clock

    # Entry rule: which lead lifecycle statuses may get a follow-up.
    eligible_lead_statuses: CommaList = ["assigned"]
    # Due-date policy when none is given. Every span below has an upper bound, which also
    # refuses inf and nan: a date computed from it must stay one that every part can show.
    default_due_days: float = Field(default=3, gt=0, le=DAYS_MAX)

    slack_webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10, gt=0, le=TIMEOUT_MAX)
    email_from: str = "ied-workflow@localhost"
    ops_emails: CommaList = []
    slack_timeout_seconds: float = Field(default=10, gt=0, le=TIMEOUT_MAX)

    # Namespaces on a shared Redis: the task queue and redbeat's keys (lock, schedule).
    celery_queue: str = Field(default="ied", pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    redbeat_key_prefix: str = Field(default="ied:redbeat:", pattern=r"^[A-Za-z0-9._:-]{1,64}$")

    scan_interval_seconds: int = Field(default=5, gt=0, le=SECONDS_MAX)
    dispatch_interval_seconds: int = Field(default=30, gt=0, le=SECONDS_MAX)
    overdue_reminder_hours: float = Field(default=24, gt=0, le=HOURS_MAX)
    digest_at: time = time(8, 0)  # local time in ops_timezone
    # A channel configured later delivers the alerts of this many hours before its first
    # run; older ones are skipped on it (the digest summarises what is still open).
    alert_backlog_hours: float = Field(default=24, ge=0, le=HOURS_MAX)
    notify_max_attempts: int = Field(default=8, gt=0, le=1000)
    # As large as a scan batch, so that one scan makes one message per channel.
    notify_batch_size: int = Field(default=20_000, gt=0, le=BATCH_MAX)
    # A claimed notification not marked sent within this lease is claimed again.
    notify_lease_seconds: int = Field(default=120, gt=0, le=SECONDS_MAX)
    # Rows stay in the database (INSERT ... SELECT), so a batch costs no worker memory;
    # 20,000 keeps a typical scan to one batch and one message per channel.
    scan_batch_size: int = Field(default=20_000, gt=0, le=BATCH_MAX)
    # The public address (https://ops.ied.example): links in alerts and API Locations, and
    # the console's cookie is Secure when it is https. Unset: alerts carry no links.
    base_url: str | None = None

    # Logs: a level for ied-workflow's processes (unset: the process's own default, e.g.
    # Celery's --loglevel), and text for people or JSON lines for log shippers.
    log_level: str | None = None
    log_format: Literal["text", "json"] = "text"
    # The operator a person's CLI commands act as when --by is not given.
    actor: str | None = None

    # The HTTP API and console (`ied-workflow serve`). The key signs list cursors and the
    # console's session cookies; `serve` refuses to start without it.
    secret_key: SecretStr | None = None
    # The dashboard's "in progress with no contact for N days".
    stale_contact_days: float = Field(default=3, gt=0, le=DAYS_MAX)
    # The dashboard's counts (API and console) are shared between requests of one process
    # for this long, then counted again: each count is capped but still costs the database,
    # nine a page. The answer says when they were counted. 0: count on every request.
    dashboard_counts_seconds: float = Field(default=5, ge=0, le=SECONDS_MAX)
    # Threads per server process for the blocking work of requests (their unit of work;
    # static files have as many of their own).
    # Few: the work is mostly Python under one GIL, and a queue of requests waiting for a
    # thread is served in order, while many threads contending for the GIL answer some
    # requests very late (16 clients, 40 threads: p99 3-5x p50; 4 threads: 2x). The
    # process's database pool holds as many connections.
    web_threads: int = Field(default=4, ge=1, le=256)
    # A console sign-in lasts this long, then the user signs in again.
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Bodies above this are refused (413) before they are read. The largest valid body,
    # an outcome with full notes and summary, JSON-escaped, is under 100 KiB.
    api_max_body_bytes: int = Field(default=128 * 1024, gt=0, le=64 * 1024 * 1024)

    @field_validator("ops_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """SQLite or PostgreSQL through psycopg: anything else is refused here, in one line."""
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("not a database URL; e.g. sqlite:///ied_workflow.db") from exc
        driver = DATABASE_DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"unsupported database {url.drivername!r}; use sqlite:/// or postgresql+psycopg://"
            )
        if driver == url.drivername:
            return value
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or any(c in value for c in '<>" \n'):
            raise ValueError("base_url must be an http(s) address such as https://ops.ied.example")
        return value

    @field_validator("eligible_lead_statuses", "ops_emails", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.ops_timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once; InvalidSettings names the variable at fault."""
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSettings(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """The first problem as one line an operator can act on: variable, reason, no value."""
    error = exc.errors()[0]
    name = "IED_" + "_".join(str(part) for part in error["loc"]).upper()
    reason = str(error["msg"]).removeprefix("Value error, ").splitlines()[0]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"invalid setting {name}: {reason}{more}"
