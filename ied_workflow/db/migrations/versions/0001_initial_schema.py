"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "leads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("installer_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_table(
        "follow_ups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("installer_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_attempt_count", sa.Integer(), nullable=False),
        sa.Column("last_contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_contacted_by_email", sa.String(length=254), nullable=True),
        sa.Column("last_contact_outcome", sa.String(length=32), nullable=True),
        sa.Column("reached_customer", sa.Boolean(), nullable=False),
        sa.Column("satisfaction_outcome", sa.String(length=32), nullable=True),
        sa.Column("has_issue", sa.Boolean(), nullable=True),
        sa.Column("issue_summary", sa.Text(), nullable=True),
        sa.Column("issue_resolved", sa.Boolean(), nullable=False),
        sa.Column("referral_opportunity", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_email", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "last_contact_outcome IN ('attempted', 'left_message', 'no_response', 'reached_customer')",
            name=op.f("ck_follow_ups_last_contact_outcome"),
        ),
        sa.CheckConstraint(
            "satisfaction_outcome IN ('satisfied', 'mixed', 'unsatisfied')",
            name=op.f("ck_follow_ups_satisfaction_outcome"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'completed', 'closed_with_issue')",
            name=op.f("ck_follow_ups_status"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_follow_ups_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_follow_ups_lead_id")),
    )
    op.create_index(
        "ix_follow_ups_has_issue",
        "follow_ups",
        ["issue_resolved", "status"],
        unique=False,
        postgresql_where=sa.text("has_issue"),
        sqlite_where=sa.text("has_issue"),
    )
    op.create_index(
        "ix_follow_ups_installer_id_status",
        "follow_ups",
        ["installer_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_follow_ups_open_due_at",
        "follow_ups",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'in_progress')"),
        sqlite_where=sa.text("status IN ('pending', 'in_progress')"),
    )
    op.create_index("ix_follow_ups_status_due_at", "follow_ups", ["status", "due_at"], unique=False)
    op.create_table(
        "contact_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "follow_up_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_email", sa.String(length=254), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('attempted', 'left_message', 'no_response', 'reached_customer')",
            name=op.f("ck_contact_attempts_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_contact_attempts_follow_up_id_follow_ups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
    )
    op.create_index(
        op.f("ix_contact_attempts_follow_up_id"),
        "contact_attempts",
        ["follow_up_id"],
        unique=False,
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "follow_up_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_events_follow_up_id_follow_ups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_follow_up_id"), "events", ["follow_up_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "follow_up_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_notifications_follow_up_id_follow_ups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_pending",
        "notifications",
        ["channel", "next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_notifications_status_id", "notifications", ["status", "id"], unique=False)
    op.create_index(
        "uq_notifications_dedupe_key_channel",
        "notifications",
        ["dedupe_key", "channel"],
        unique=True,
    )


def downgrade() -> None:
    """Downgrade schema."""

    op.drop_index("uq_notifications_dedupe_key_channel", table_name="notifications")
    op.drop_index("ix_notifications_status_id", table_name="notifications")
    op.drop_index(
        "ix_notifications_pending",
        table_name="notifications",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.drop_table("notifications")
    op.drop_index(op.f("ix_events_follow_up_id"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_contact_attempts_follow_up_id"), table_name="contact_attempts")
    op.drop_table("contact_attempts")
    op.drop_index("ix_follow_ups_status_due_at", table_name="follow_ups")
    op.drop_index(
        "ix_follow_ups_open_due_at",
        table_name="follow_ups",
        postgresql_where=sa.text("status IN ('pending', 'in_progress')"),
        sqlite_where=sa.text("status IN ('pending', 'in_progress')"),
    )
    op.drop_index("ix_follow_ups_installer_id_status", table_name="follow_ups")
    op.drop_index(
        "ix_follow_ups_has_issue",
        table_name="follow_ups",
        postgresql_where=sa.text("has_issue"),
        sqlite_where=sa.text("has_issue"),
    )
    op.drop_table("follow_ups")
    op.drop_table("leads")
