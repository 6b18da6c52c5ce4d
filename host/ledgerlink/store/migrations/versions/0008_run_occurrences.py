"""Runs remember their occurrence: one run per recipe per object, however the event came.

``runs.occurrence`` is ``"<trigger>:<value at the trigger's occurrence_path>"`` (hashed when
longer than the column), or NULL when the event is an occurrence of its own. The unique
index on (recipe_id, occurrence) lets the inbox insert runs with ON CONFLICT DO NOTHING: a
second event about the same object (delivered, polled or backfilled under another id)
plans no run for a recipe that already has one, even when two processes store them at the
same moment. NULLs never collide, so events without an occurrence and replays plan as before.

A unique index rather than a table constraint: SQLite adds an index in place, where a
constraint would copy the whole ``runs`` table; both dialects treat either the same for
uniqueness and for ON CONFLICT.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("occurrence", sa.String(255), nullable=True))
    op.create_index("uq_runs_recipe_occurrence", "runs", ["recipe_id", "occurrence"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_runs_recipe_occurrence", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("occurrence")
