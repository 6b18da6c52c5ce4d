"""The sync log's indexes: pages of runs newest first within a status or a recipe, and runs
found by their event's id at its source.

A page of the sync log is ``WHERE … AND id < :after ORDER BY id DESC LIMIT n`` (keyset
paging). ``ix_runs_status_id`` and ``ix_runs_recipe_id`` let a page filtered by status or by
recipe read its rows in order from the index instead of sorting every matching run (with
100,000 runs, a rare status would otherwise scan the whole table for each page);
``ix_events_event_id`` and ``ix_runs_event`` find the runs of one source event without
scanning the inbox or the runs (a date range's runs are found by ``ix_runs_created``,
migration 0013).

Of these only ``ix_runs_status_id`` changes when a run changes status (the others are
written once, when the run or its event is stored), so the worker's updates pay for one more
index entry, not four.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_status_id", "runs", ["status", "id"])
    op.create_index("ix_runs_recipe_id", "runs", ["recipe_id", "id"])
    op.create_index("ix_events_event_id", "events", ["event_id"])
    op.create_index("ix_runs_event", "runs", ["event_pk"])


def downgrade() -> None:
    op.drop_index("ix_runs_event", "runs")
    op.drop_index("ix_events_event_id", "events")
    op.drop_index("ix_runs_recipe_id", "runs")
    op.drop_index("ix_runs_status_id", "runs")
