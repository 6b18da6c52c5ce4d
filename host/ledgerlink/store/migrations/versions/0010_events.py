"""Tallies: occurrences counted per key, time window and error by every process together.

Alerts use them: a recipe's failures are counted per interval (``[alerts]``
``interval_seconds``), so a vendor outage raises one event when the window opens and one
summary with the count when it closes, not one per failed run. One row per (key, window,
error), incremented with INSERT … ON CONFLICT DO UPDATE, so processes never lose a count;
``settled`` marks a closed window whose summary was raised.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tallies",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("window_start", sa.Float, primary_key=True),
        sa.Column("error", sa.String(500), primary_key=True),
        sa.Column("window_end", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_run", sa.Integer, nullable=True),
        sa.Column("last_run", sa.Integer, nullable=True),
        sa.Column("settled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_tallies_open", "tallies", ["settled", "window_end"])


def downgrade() -> None:
    op.drop_index("ix_tallies_open", "tallies")
    op.drop_table("tallies")
