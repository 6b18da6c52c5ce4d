"""The tables, by family, and their one ``metadata`` (the Alembic environment compares the
migrations with it).

Tables (the schema is created and changed only by the Alembic migrations in
``ledgerlink/store/migrations``; ``ledgerlink db upgrade`` applies them):

``events``           the inbox: one row per (connection, event id), stored before the webhook is answered
``recipe_versions``  every recipe version ever loaded, with its body, so a run finishes on its own version
``runs``             one per (recipe id, recipe version, event): unique, so an event never runs a version twice;
                     and at most one per (recipe id, occurrence): one run per recipe per object,
                     however many events (delivered, polled, backfilled) are about it
``run_steps``        the run log: each attempt of each step, input, redacted request, bounded response
``links``            source object ↔ entity created in the target system, per connection
``writes``           every entity a step created or changed (per connection and entity kind), and
                     when: an event about it that is no later is its echo, not a person's change
``connection_secrets`` OAuth tokens and other connection secrets, encrypted at rest
``governor_*``       requests started per vendor tenant, so processes share the rate governor
``cursors``          trigger cursors (polls), kept across reloads and restarts; a poll's row is
                     also its schedule and its lease, so it fires once across processes; the
                     row ``ledgerlink:health`` is what the write probe of :meth:`Store.health` updates
``tallies``          occurrences counted per key, time window and error by every process together
                     (alerts: one per failing recipe per interval, with a count)

Times are Unix seconds (float). JSON columns hold text written by :mod:`ledgerlink.jsonio`,
so amounts stay exact.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("trigger", sa.String(200), nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    # a notification carrying ids only: "pending" until its entity is fetched and its runs
    # planned, then "done"; "gone" when the entity no longer exists; "failed" after the
    # last attempt; "paused" while its connection needs a new key. NULL: nothing to fetch
    # (runs were planned on arrival).
    sa.Column("fetch_state", sa.String(10), nullable=True),
    sa.Column("fetch_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("fetch_due_at", sa.Float, nullable=True),
    sa.Column("fetch_owner", sa.String(100), nullable=True),
    sa.Column("fetch_until", sa.Float, nullable=True),
    sa.Column("fetch_error", sa.Text, nullable=True),
    sa.UniqueConstraint("connection", "event_id", name="uq_events_connection_event"),
    sa.Index("ix_events_fetch", "fetch_state", "fetch_due_at"),
    # the sync log's source id filter (migration 0012)
    sa.Index("ix_events_event_id", "event_id"),
)

recipe_versions = sa.Table(
    "recipe_versions", metadata,
    sa.Column("recipe_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("file", sa.String(500), nullable=False, server_default=""),
    sa.Column("loaded_at", sa.Float, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recipe_id", sa.String(100), nullable=False),
    sa.Column("recipe_version", sa.Integer, nullable=False),
    sa.Column("event_pk", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("key_generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("paused_on", sa.String(100), nullable=True),
    # "<trigger>:<value at the trigger's occurrence_path>" (hashed when longer than the
    # column); NULL: the event is an occurrence of its own (and every replay)
    sa.Column("occurrence", sa.String(255), nullable=True),
    # review before posting (a recipe with "review": true): the requests shown and their
    # digest, the digest approved and the run log's last row of the run then, who reviewed it
    # and why
    sa.Column("review_plan", sa.Text, nullable=True),
    sa.Column("review_digest", sa.String(64), nullable=True),
    sa.Column("approved_digest", sa.String(64), nullable=True),
    sa.Column("approved_log_id", sa.Integer, nullable=True),
    sa.Column("reviewed_by", sa.String(100), nullable=True),
    sa.Column("review_note", sa.Text, nullable=True),
    # a run closed "skipped": why, as a word ("echo", "not_linked", "conflict") and a sentence
    sa.Column("skipped_as", sa.String(20), nullable=True),
    sa.Column("skip_reason", sa.Text, nullable=True),
    sa.UniqueConstraint("recipe_id", "recipe_version", "event_pk", name="uq_runs_recipe_version_event"),
    sa.Index("uq_runs_recipe_occurrence", "recipe_id", "occurrence", unique=True),
    sa.Index("ix_runs_status_due", "status", "due_at"),
    sa.Index("ix_runs_recipe", "recipe_id", "created_at"),
    # the sync log's pages: newest first within a status or a recipe, the runs of a source
    # event (migration 0012)
    sa.Index("ix_runs_status_id", "status", "id"),
    sa.Index("ix_runs_recipe_id", "recipe_id", "id"),
    sa.Index("ix_runs_event", "event_pk"),
    # runs of a date range, and the health chart's runs per hour by status counted from the
    # index alone (migration 0013)
    sa.Index("ix_runs_created", "created_at", "status"),
)

run_steps = sa.Table(
    "run_steps", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("step_id", sa.String(64), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("input", sa.Text, nullable=True),
    sa.Column("request", sa.Text, nullable=True),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("response_body", sa.Text, nullable=True),
    sa.Column("output", sa.Text, nullable=True),
    sa.Column("external_id", sa.String(255), nullable=True),
    sa.Column("idempotency_key", sa.String(64), nullable=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_run_steps_run", "run_id", "step_id"),
)

links = sa.Table(
    "links", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_connection", sa.String(100), nullable=False),
    sa.Column("source_id", sa.String(255), nullable=False),
    sa.Column("target_connection", sa.String(100), nullable=False),
    sa.Column("target_type", sa.String(100), nullable=False),
    sa.Column("target_id", sa.String(255), nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("step_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("target_connection", "target_type", "target_id", name="uq_links_target"),
    sa.Index("ix_links_source", "source_connection", "source_id"),
)

writes = sa.Table(
    "writes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("entity", sa.String(100), nullable=False),
    sa.Column("entity_id", sa.String(255), nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("step_id", sa.String(64), nullable=False),
    sa.Column("written_at", sa.Float, nullable=False),
    sa.Index("ix_writes_entity", "connection", "entity", "entity_id"),
    sa.Index("ix_writes_run", "run_id"),
)

connection_secrets = sa.Table(
    "connection_secrets", metadata,
    sa.Column("connection", sa.String(100), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="ok"),
    sa.Column("updated_at", sa.Float, nullable=False),
)

cursors = sa.Table(
    "cursors", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # a poll's row is its schedule and its lock: due_at, and who holds it until when
    sa.Column("due_at", sa.Float, nullable=True),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
)


governor_starts = sa.Table(
    "governor_starts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("holder", sa.String(100), nullable=False),
    sa.Index("ix_governor_starts_key_started", "key", "started_at"),
)

governor_pauses = sa.Table(
    "governor_pauses", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("until", sa.Float, nullable=False),
)

tallies = sa.Table(
    "tallies", metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    # the window's start, Unix seconds aligned on its length, so every process agrees
    sa.Column("window_start", sa.Float, primary_key=True),
    # the error met (shortened to the column), "" when none was given
    sa.Column("error", sa.String(500), primary_key=True),
    sa.Column("window_end", sa.Float, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("first_run", sa.Integer, nullable=True),
    sa.Column("last_run", sa.Integer, nullable=True),
    # handled once the window ended (its summary raised)
    sa.Column("settled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_tallies_open", "settled", "window_end"),
)
