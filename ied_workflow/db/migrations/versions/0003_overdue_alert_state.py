"""overdue_alerts: the latest overdue alert key written per follow-up

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "overdue_alerts",
        sa.Column(
            "follow_up_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("alert_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_overdue_alerts_follow_up_id_follow_ups"),
        ),
        sa.PrimaryKeyConstraint("follow_up_id", name=op.f("pk_overdue_alerts")),
    )


def downgrade() -> None:
    op.drop_table("overdue_alerts")
