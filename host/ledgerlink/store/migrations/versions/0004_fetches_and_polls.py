"""Events that must be fetched before runs are planned; polls leased across processes.

``events.fetch_*``: a notification that carries ids only (QuickBooks) is stored at once
and fetched afterwards, under a lease, with retries. ``cursors.lease_*``/``due_at``: a
poll's cursor row is also its schedule and its lock, so a poll fires once across every
process sharing the database.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("fetch_state", sa.String(10), nullable=True))
        batch.add_column(sa.Column("fetch_attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("fetch_due_at", sa.Float, nullable=True))
        batch.add_column(sa.Column("fetch_owner", sa.String(100), nullable=True))
        batch.add_column(sa.Column("fetch_until", sa.Float, nullable=True))
        batch.add_column(sa.Column("fetch_error", sa.Text, nullable=True))
    op.create_index("ix_events_fetch", "events", ["fetch_state", "fetch_due_at"])
    with op.batch_alter_table("cursors") as batch:
        batch.add_column(sa.Column("due_at", sa.Float, nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(100), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.Float, nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cursors") as batch:
        for column in ("last_error", "lease_until", "lease_owner", "due_at"):
            batch.drop_column(column)
    op.drop_index("ix_events_fetch", "events")
    with op.batch_alter_table("events") as batch:
        for column in ("fetch_error", "fetch_until", "fetch_owner", "fetch_due_at", "fetch_attempts",
                       "fetch_state"):
            batch.drop_column(column)
