"""alerts and per-channel deliveries replace notifications; reminders count from the last alert

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

`notifications` held one row per alert *and channel*, with the channels chosen by the
process that wrote it. Each group of rows with one dedupe key becomes one alert (its
key is the episode key, so nothing already alerted is alerted again), and each row
becomes that alert's delivery on its channel, with its id, status, attempts, lease
and error kept. `overdue_alerts` changes from the latest key to the latest episode
(due date, reminder number, when it was alerted), read back from the keys.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_alerts_and_deliveries()
    _copy_notifications()
    op.drop_index("uq_notifications_dedupe_key_channel", table_name="notifications")
    op.drop_index("ix_notifications_status_id", table_name="notifications")
    op.drop_index(
        "ix_notifications_pending",
        table_name="notifications",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    _overdue_state_as_episodes()
    op.drop_table("notifications")


def downgrade() -> None:
    raise NotImplementedError(
        "0004 cannot be undone: per-channel deliveries do not fit back into notifications"
    )


def _create_alerts_and_deliveries() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("follow_up_id", Id, nullable=True),
        sa.Column("episode_key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"], ["follow_ups.id"], name=op.f("fk_alerts_follow_up_id_follow_ups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("episode_key", name=op.f("uq_alerts_episode_key")),
    )
    op.create_index(op.f("ix_alerts_created_at"), "alerts", ["created_at"], unique=False)
    op.create_table(
        "deliveries",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("alert_id", Id, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("claimed_until", Time, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", Time, nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_deliveries_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(
        "ix_deliveries_pending",
        "deliveries",
        ["channel", "next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_deliveries_status_id", "deliveries", ["status", "id"], unique=False)
    op.create_index(
        "uq_deliveries_alert_id_channel", "deliveries", ["alert_id", "channel"], unique=True
    )
    op.create_table(
        "channels",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("first_used_at", Time, nullable=False),
        sa.Column("fanned_out_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_channels")),
    )


notifications = sa.table(
    "notifications",
    sa.column("id", Id),
    sa.column("kind", sa.String),
    sa.column("channel", sa.String),
    sa.column("follow_up_id", Id),
    sa.column("dedupe_key", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", Time),
    sa.column("claimed_until", Time),
    sa.column("last_error", sa.Text),
    sa.column("created_at", Time),
    sa.column("sent_at", Time),
)
alerts = sa.table(
    "alerts",
    sa.column("id", Id),
    sa.column("kind", sa.String),
    sa.column("follow_up_id", Id),
    sa.column("episode_key", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("created_at", Time),
)
deliveries = sa.table(
    "deliveries",
    sa.column("id", Id),
    sa.column("alert_id", Id),
    sa.column("channel", sa.String),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", Time),
    sa.column("claimed_until", Time),
    sa.column("last_error", sa.Text),
    sa.column("sent_at", Time),
)
channels = sa.table(
    "channels",
    sa.column("name", sa.String),
    sa.column("first_used_at", Time),
    sa.column("fanned_out_at", Time),
)


def _copy_notifications() -> None:
    """One alert per dedupe key (its first row), one delivery per row, ids kept."""
    n, first = notifications.c, notifications.alias("first")
    first_of_key = (
        sa.select(sa.func.min(first.c.id)).where(first.c.dedupe_key == n.dedupe_key)
    ).scalar_subquery()
    op.execute(
        alerts.insert().from_select(
            ["kind", "follow_up_id", "episode_key", "payload", "created_at"],
            sa.select(n.kind, n.follow_up_id, n.dedupe_key, n.payload, n.created_at).where(
                n.id == first_of_key
            ),
        )
    )
    copied = ["id", "channel", "status", "attempts", "next_attempt_at", "claimed_until"]
    op.execute(
        deliveries.insert().from_select(
            [*copied, "last_error", "sent_at", "alert_id"],
            sa.select(
                *(n[name] for name in copied), n.last_error, n.sent_at, alerts.c.id
            ).select_from(notifications.join(alerts, alerts.c.episode_key == n.dedupe_key)),
        )
    )
    op.execute(
        channels.insert().from_select(
            ["name", "first_used_at", "fanned_out_at"],
            sa.select(n.channel, sa.func.min(n.created_at), sa.func.max(n.created_at)).group_by(
                n.channel
            ),
        )
    )
    if op.get_bind().dialect.name == "postgresql":  # ids were copied: move the sequence on
        op.execute(
            "SELECT setval(pg_get_serial_sequence('deliveries', 'id'), "
            "COALESCE((SELECT MAX(id) FROM deliveries), 0) + 1, false)"
        )


def _overdue_state_as_episodes() -> None:
    """overdue_alerts: from 'overdue:<id>:<due epoch>:<reminder>' to its three parts."""
    conn = op.get_bind()
    old = sa.table("overdue_alerts", sa.column("follow_up_id", Id), sa.column("alert_key"))
    first_alerted = dict(
        conn.execute(
            sa.select(notifications.c.dedupe_key, sa.func.min(notifications.c.created_at))
            .where(notifications.c.kind == "overdue")
            .group_by(notifications.c.dedupe_key)
        ).all()
    )
    now = datetime.now(UTC)  # only if the alert's rows are gone: the next reminder waits
    follow_ups = sa.table("follow_ups", sa.column("id", Id), sa.column("due_at", Time))
    rows = conn.execute(
        sa.select(old.c.follow_up_id, old.c.alert_key, follow_ups.c.due_at).join(
            follow_ups, follow_ups.c.id == old.c.follow_up_id
        )
    )
    episodes = [
        _episode(follow_up_id, key, due_at, first_alerted.get(key) or now)
        for follow_up_id, key, due_at in rows
    ]
    op.drop_table("overdue_alerts")
    state = op.create_table(
        "overdue_alerts",
        sa.Column("follow_up_id", Id, nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("reminder", sa.Integer(), nullable=False),
        sa.Column("alerted_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_overdue_alerts_follow_up_id_follow_ups"),
        ),
        sa.PrimaryKeyConstraint("follow_up_id", name=op.f("pk_overdue_alerts")),
    )
    if episodes:
        op.bulk_insert(state, episodes)


def _episode(
    follow_up_id: int, key: str, due_now: datetime, alerted_at: datetime
) -> dict[str, object]:
    """The episode a key names; its due date is the follow-up's own if the key is current."""
    _, _, due_epoch, reminder = key.split(":")
    due_now, alerted_at = _aware(due_now), _aware(alerted_at)
    due_at = datetime.fromtimestamp(int(due_epoch), UTC)
    if int(due_now.timestamp() // 1) == int(due_epoch):  # keys hold whole seconds
        due_at = due_now
    return {
        "follow_up_id": follow_up_id,
        "due_at": _stored(due_at),
        "reminder": int(reminder),
        "alerted_at": _stored(alerted_at),
    }


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # SQLite: naive UTC


def _stored(value: datetime) -> datetime:
    """As the UTCDateTime column type stores it: naive UTC on SQLite, aware elsewhere."""
    if op.get_bind().dialect.name == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
