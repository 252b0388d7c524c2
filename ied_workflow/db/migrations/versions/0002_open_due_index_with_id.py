"""open-due index carries id (the scan's keyset); an index for the issue lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ROWS = sa.text("status IN ('pending', 'in_progress')")


def _replace(columns: list[str]) -> None:
    op.drop_index("ix_follow_ups_open_due_at", table_name="follow_ups")
    op.create_index(
        "ix_follow_ups_open_due_at",
        "follow_ups",
        columns,
        unique=False,
        postgresql_where=OPEN_ROWS,
        sqlite_where=OPEN_ROWS,
    )


HAS_ISSUE = sa.text("has_issue")


def upgrade() -> None:
    _replace(["due_at", "id"])
    op.create_index(
        "ix_follow_ups_issue_due_at",
        "follow_ups",
        ["due_at", "id"],
        unique=False,
        postgresql_where=HAS_ISSUE,
        sqlite_where=HAS_ISSUE,
    )


def downgrade() -> None:
    op.drop_index("ix_follow_ups_issue_due_at", table_name="follow_ups")
    _replace(["due_at"])
