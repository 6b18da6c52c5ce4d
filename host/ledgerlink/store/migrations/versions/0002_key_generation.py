"""Runs carry a key generation: replaying a run that the vendor refused uses fresh idempotency keys.

A vendor answers a reused idempotency key with its first answer (QuickBooks ``requestid``),
so a replay after a permanent refusal must send new keys; a replay of a run whose outcome
may be unknown keeps them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("key_generation", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("key_generation")
