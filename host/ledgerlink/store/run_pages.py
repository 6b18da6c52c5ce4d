"""Runs as a person pages through them: filters, counts per status, keyset pages.

The console's sync log reads runs here. A page continues *after* the last id of the page
before (``WHERE id < :after ORDER BY id DESC``), never with ``OFFSET``, so the hundredth
page costs what the first does; the indexes of migration 0012 (status, recipe and event id,
each with the run id) keep a filtered page as cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ledgerlink.store.base import StoreBase
from ledgerlink.store.schema import events, recipe_versions, runs

#: the columns of a run in a page (not its review plan or step log: the run's own page has those)
PAGE_COLUMNS = (runs.c.id, runs.c.recipe_id, runs.c.recipe_version, runs.c.status, runs.c.attempts,
                runs.c.created_at, runs.c.updated_at, runs.c.last_error, runs.c.skipped_as,
                events.c.event_id, events.c.connection, events.c.trigger)


@dataclass(frozen=True)
class RunFilter:
    """Which runs a page shows; every field None shows every run."""

    status: str | None = None
    recipe_id: str | None = None
    #: the connection the run's event came from
    connection: str | None = None
    #: the id of the run's event at its source (``evt_…``)
    source_id: str | None = None
    #: created at or after, and before, these Unix times
    since: float | None = None
    until: float | None = None
    #: the connection a paused run waits for
    paused_on: str | None = None

    def where(self, query: sa.Select, with_status: bool = True) -> sa.Select:
        """``query`` (over runs joined to events) narrowed to this filter."""
        if with_status and self.status:
            query = query.where(runs.c.status == self.status)
        if self.recipe_id:
            query = query.where(runs.c.recipe_id == self.recipe_id)
        if self.connection:
            query = query.where(events.c.connection == self.connection)
        if self.source_id:
            query = query.where(events.c.event_id == self.source_id)
        if self.paused_on:
            query = query.where(runs.c.paused_on == self.paused_on)
        if self.since is not None:
            query = query.where(runs.c.created_at >= self.since)
        if self.until is not None:
            query = query.where(runs.c.created_at < self.until)
        return query


class RunPageStore(StoreBase):
    """Pages of runs and their counts per status."""

    def run_page(self, where: RunFilter, after_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """At most ``limit`` runs matching ``where``, newest first, with ids below ``after_id``."""
        query = (sa.select(*PAGE_COLUMNS).join(events, events.c.id == runs.c.event_pk)
                 .order_by(runs.c.id.desc()).limit(limit))
        if after_id is not None:
            query = query.where(runs.c.id < after_id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(where.where(query)).mappings()]

    def status_counts(self, where: RunFilter) -> dict[str, int]:
        """How many runs match ``where`` (its status aside), per status."""
        query = sa.select(runs.c.status, sa.func.count()).select_from(runs)
        if where.connection or where.source_id:
            query = query.join(events, events.c.id == runs.c.event_pk)
        query = where.where(query, with_status=False).group_by(runs.c.status)
        with self.engine.connect() as conn:
            return {str(status): int(n) for status, n in conn.execute(query)}

    def recipe_ids(self) -> list[str]:
        """Every recipe id ever loaded (the sync log's recipe filter)."""
        with self.engine.connect() as conn:
            return [str(r) for r in conn.execute(sa.select(recipe_versions.c.recipe_id).distinct()
                                                 .order_by(recipe_versions.c.recipe_id)).scalars()]
