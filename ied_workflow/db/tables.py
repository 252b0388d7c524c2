"""The database schema as SQLAlchemy Core tables; Alembic migrations mirror it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    func,
    text,
)
from sqlalchemy.engine import Dialect

from ied_workflow.domain import OPEN_STATUSES, ContactOutcome, Role, Satisfaction, Status


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database; SQLite gets UTC text, read back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused; give an offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """The driver's own on PostgreSQL: its sessions run with TimeZone UTC
        (`engines.SESSION_OPTIONS`), so psycopg already returns `datetime.UTC` values.

        Calling `process_result_value` on each instant was a fifth of the client CPU of
        reading a page of follow-ups.
        """
        if dialect.name == "postgresql":
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)


def _one_of(column: str, values: Any) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)  # enum literals, never user input
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# The partial indexes' predicate, spelled as literals so the planner matches it.
OPEN_ROWS = text("status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES) + ")")

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only

leads = Table(
    "leads",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(64), nullable=False),
    Column("installer_id", String(64)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("lead_id", String(64), ForeignKey("leads.id"), nullable=False, unique=True),
    Column("installer_id", String(64)),
    Column("status", String(32), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("contact_attempt_count", Integer, nullable=False, default=0),
    Column("last_contacted_at", UTCDateTime()),
    Column("last_contacted_by_email", String(254)),
    Column("last_contact_outcome", String(32)),
    Column("reached_customer", Boolean, nullable=False, default=False),
    Column("satisfaction_outcome", String(32)),
    Column("has_issue", Boolean),
    Column("issue_summary", Text),
    Column("issue_resolved", Boolean, nullable=False, default=False),
    Column("referral_opportunity", Boolean, nullable=False, default=False),
    Column("notes", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by_email", String(254), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    _one_of("status", Status),
    _one_of("last_contact_outcome", ContactOutcome),
    _one_of("satisfaction_outcome", Satisfaction),
    # The overdue scan and the due/overdue filters read open rows by due date only.
    Index(
        "ix_follow_ups_open_due_at",
        "due_at",
        "id",  # the scan's keyset (due_at, id) and the lists' order, straight off the index
        postgresql_where=OPEN_ROWS,
        sqlite_where=OPEN_ROWS,
    ),
    Index("ix_follow_ups_status_due_at", "status", "due_at"),
    # The issue lists, soonest due first, without sorting every issue ever recorded.
    Index(
        "ix_follow_ups_issue_due_at",
        "due_at",
        "id",
        postgresql_where=text("has_issue"),
        sqlite_where=text("has_issue"),
    ),
    Index("ix_follow_ups_installer_id_status", "installer_id", "status"),
    Index(
        "ix_follow_ups_has_issue",
        "issue_resolved",
        "status",
        postgresql_where=text("has_issue"),
        sqlite_where=text("has_issue"),
    ),
)

# When a follow-up was last worked: its last contact, else its start, else its creation.
# The "no contact for N days" filter and its index below share this one expression, so the
# planner matches them (an index on a different spelling would not be used).
LAST_TOUCH = func.coalesce(
    follow_ups.c.last_contacted_at, follow_ups.c.started_at, follow_ups.c.created_at
)
IN_PROGRESS_ROWS = text(f"status = '{Status.IN_PROGRESS.value}'")
# The dashboard's "in progress, no contact for N days": its capped count reads at most
# 10,001 index entries instead of every in-progress row (83,373 of 1M). On PostgreSQL the
# three columns are included so the count is an index-only scan (an expression alone does
# not let the planner skip the table).
Index(
    "ix_follow_ups_in_progress_last_touch",
    LAST_TOUCH,
    postgresql_where=IN_PROGRESS_ROWS,
    postgresql_include=["last_contacted_at", "started_at", "created_at"],
    sqlite_where=IN_PROGRESS_ROWS,
)

contact_attempts = Table(
    "contact_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("follow_up_id", Id, ForeignKey("follow_ups.id"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("by_email", String(254), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("note", Text),
    _one_of("outcome", ContactOutcome),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("follow_up_id", Id, ForeignKey("follow_ups.id"), nullable=False, index=True),
    Column("type", String(32), nullable=False),
    Column("from_status", String(32)),
    Column("to_status", String(32)),
    Column("actor_email", String(254), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("data", JSON, nullable=False),
)

# An alert is a fact, recorded once per episode with the change or scan that caused it.
# Which channels deliver it is decided by the dispatcher (see `deliveries`).
alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("follow_up_id", Id, ForeignKey("follow_ups.id")),
    Column("episode_key", String(200), nullable=False, unique=True),
    Column("payload", JSON),  # a snapshot the alert needs beyond the follow-up row
    Column("created_at", UTCDateTime(), nullable=False, index=True),
)

# One alert on one channel: its own delivery state, attempts, lease and error.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("alert_id", Id, ForeignKey("alerts.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_until", UTCDateTime()),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    Index("uq_deliveries_alert_id_channel", "alert_id", "channel", unique=True),
    # The dispatcher claims due pending rows; sent ones are history.
    Index(
        "ix_deliveries_pending",
        "channel",
        "next_attempt_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    Index("ix_deliveries_status_id", "status", "id"),
)

# Each channel a dispatcher has delivered on: when it was first used (a channel configured
# later gets only the recent backlog) and how far its fan-out has looked.
channels = Table(
    "channels",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("first_used_at", UTCDateTime(), nullable=False),
    Column("fanned_out_at", UTCDateTime()),
)

# Each overdue follow-up's latest episode: a repeat scan reads one primary-key entry per
# overdue row, and the next reminder is counted from `alerted_at`.
overdue_alerts = Table(
    "overdue_alerts",
    metadata,
    Column("follow_up_id", Id, ForeignKey("follow_ups.id"), primary_key=True),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("reminder", Integer, nullable=False),
    Column("alerted_at", UTCDateTime(), nullable=False),
)

# Who may call the HTTP API. A password is optional (token-only accounts for automation).
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    _one_of("role", Role),
)

# API tokens: only the SHA-256 of each token is kept, unique so a request finds its row
# by index. Revoked rows stay, so `tokens list` shows what was revoked and when.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(100)),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

# "Open", as SQL: the literal list lets the planner match the partial indexes above.
IS_OPEN = follow_ups.c.status.in_(
    bindparam("open", [s.value for s in OPEN_STATUSES], literal_execute=True)
)

# Figures for /metrics that only a worker sees happen: counters (deliveries sent, retried,
# failed per channel; scans and their total seconds) and last values (the last scan).
# Kept here, not in a worker's memory, so every web process reports the same truth.
measurements = Table(
    "measurements",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("label", String(64), primary_key=True),  # e.g. the channel; "" when none
    Column("value", Float(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
