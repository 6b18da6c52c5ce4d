"""Two-way sync: what ledgerlink wrote, and runs skipped with a reason.

``writes`` holds each entity a step created or changed — its connection, the kind of entity
the action declares (``Action.entity``), its id — and when the step was logged. An event
about that entity whose change is no later than the write is ledgerlink's own echo: its run
is skipped as ``echo`` instead of writing the change back to where it came from.

``runs.skipped_as`` and ``runs.skip_reason``: a run closed with status ``skipped`` says why,
as a word (``echo``, a recipe's ``skip`` rule such as ``not_linked`` or ``conflict``) and a
sentence naming the values that decided it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("written_at", sa.Float, nullable=False),
    )
    op.create_index("ix_writes_entity", "writes", ["connection", "entity", "entity_id"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("skipped_as", sa.String(20), nullable=True))
        batch.add_column(sa.Column("skip_reason", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("skip_reason")
        batch.drop_column("skipped_as")
    op.drop_index("ix_writes_entity", "writes")
    op.drop_table("writes")
