"""Runs of a recipe with ``"review": true`` wait for a person before they send anything.

A run awaiting review holds the exact requests it would send (``review_plan``, secrets
redacted, as a dry-run shows them) and their digest (``review_digest``). Approving copies
the digest into ``approved_digest`` and records the run log's last row of the run
(``approved_log_id``): the worker plans the run again and sends only when the digest is
the same, and once a step of the approved run was logged it goes on without asking again
(the steps a replayed run logged before are older than the approval).
``reviewed_by`` and ``review_note`` say who approved or rejected it and why, or why the run
was shown again. No index: runs awaiting review are found by the existing status index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = (
    ("review_plan", sa.Text),
    ("review_digest", sa.String(64)),
    ("approved_digest", sa.String(64)),
    ("approved_log_id", sa.Integer),
    ("reviewed_by", sa.String(100)),
    ("review_note", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
