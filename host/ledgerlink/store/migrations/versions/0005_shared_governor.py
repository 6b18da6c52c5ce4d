"""The rate governor shared by every process on one database.

``governor_starts``: one row per request started against a tenant (its key), finished or
not, so N processes together count one sliding window and one concurrency limit.
``governor_pauses``: a tenant's pause after the vendor said Retry-After.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governor_starts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("holder", sa.String(100), nullable=False),
    )
    op.create_index("ix_governor_starts_key_started", "governor_starts", ["key", "started_at"])
    op.create_table(
        "governor_pauses",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("governor_pauses")
    op.drop_index("ix_governor_starts_key_started", "governor_starts")
    op.drop_table("governor_starts")
