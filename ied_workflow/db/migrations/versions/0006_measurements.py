"""measurements: worker-side counters and last values for /metrics

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Deliveries sent, retried and failed per channel, and the overdue scan's runs and
durations, kept in the database so that /metrics in any web process reads them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measurements",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "label", name=op.f("pk_measurements")),
    )


def downgrade() -> None:
    op.drop_table("measurements")
