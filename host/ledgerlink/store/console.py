"""Reads for the console's pages: each run's source event and what it wrote (for deep links),
the runs per hour by status and the webhook refusals per hour (the health chart), and every
stored version of a recipe.

Each read is one statement, bounded by what the page shows: a page of runs, a window of
hours, one recipe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.store.base import StoreBase
from ledgerlink.store.schema import (events, governor_pauses, governor_starts, recipe_versions, run_steps, runs,
                                     tallies, writes)

#: the tally key prefix of webhook deliveries refused, one tally per connection and hour
REJECTED_PREFIX = "ledgerlink:webhook.rejected:"
HOUR = 3600.0


@dataclass(frozen=True)
class RunSource:
    """A run's event: its connection, trigger and payload (decoded), for the source's link."""

    run_id: int
    connection: str
    trigger: str
    payload: Any


@dataclass(frozen=True)
class StepResult:
    """A step of a run that succeeded with an id at the vendor (``run_steps.external_id``)."""

    run_id: int
    recipe_id: str
    recipe_version: int
    step_id: str
    external_id: str


@dataclass(frozen=True)
class Written:
    """One entity a run's step wrote (``writes``)."""

    run_id: int
    step_id: str
    connection: str
    entity: str
    entity_id: str


class ConsoleStore(StoreBase):
    """What the console's pages read."""

    def run_sources(self, run_ids: Sequence[int]) -> dict[int, RunSource]:
        """The event of each run in ``run_ids`` (unknown ids are left out)."""
        if not run_ids:
            return {}
        query = (sa.select(runs.c.id, events.c.connection, events.c.trigger, events.c.payload)
                 .join(events, events.c.id == runs.c.event_pk).where(runs.c.id.in_(list(run_ids))))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out = {}
        for run_id, connection, trigger, payload in rows:
            try:
                body = jsonio.loads(payload)
            except ValueError:  # an event stored as is that is not JSON: no source id to read
                body = None
            out[int(run_id)] = RunSource(int(run_id), str(connection), str(trigger), body)
        return out

    def run_writes(self, run_ids: Sequence[int]) -> dict[int, list[Written]]:
        """What each run in ``run_ids`` wrote, in the order it was written (``ix_writes_run``)."""
        if not run_ids:
            return {}
        query = (sa.select(writes.c.run_id, writes.c.step_id, writes.c.connection, writes.c.entity,
                           writes.c.entity_id)
                 .where(writes.c.run_id.in_(list(run_ids))).order_by(writes.c.run_id, writes.c.id))
        out: dict[int, list[Written]] = {}
        with self.engine.connect() as conn:
            for run_id, step_id, connection, entity, entity_id in conn.execute(query):
                out.setdefault(int(run_id), []).append(
                    Written(int(run_id), str(step_id), str(connection), str(entity), str(entity_id)))
        return out

    def run_step_results(self, run_ids: Sequence[int]) -> dict[int, list[StepResult]]:
        """The steps of each run in ``run_ids`` that succeeded with an id at the vendor, in
        the order they ran (``ix_run_steps_run``)."""
        if not run_ids:
            return {}
        query = (sa.select(run_steps.c.run_id, runs.c.recipe_id, runs.c.recipe_version, run_steps.c.step_id,
                           run_steps.c.external_id)
                 .join(runs, runs.c.id == run_steps.c.run_id)
                 .where(run_steps.c.run_id.in_(list(run_ids)), run_steps.c.status == "succeeded",
                        run_steps.c.external_id.is_not(None))
                 .order_by(run_steps.c.run_id, run_steps.c.id))
        out: dict[int, list[StepResult]] = {}
        with self.engine.connect() as conn:
            for run_id, recipe_id, version, step_id, external_id in conn.execute(query):
                out.setdefault(int(run_id), []).append(
                    StepResult(int(run_id), str(recipe_id), int(version), str(step_id), str(external_id)))
        return out

    def runs_per_hour(self, since: float, until: float) -> list[tuple[float, str, int]]:
        """``(hour start, status, runs)`` for the runs created in ``[since, until)``, by the
        hour (Unix seconds, a multiple of 3600) they were created in: one grouped statement
        over ``ix_runs_created``."""
        if self.engine.dialect.name == "sqlite":  # times are positive: SQLite's truncation is floor
            hour = sa.cast(runs.c.created_at / HOUR, sa.Integer)
        else:  # PostgreSQL's cast rounds
            hour = sa.cast(sa.func.floor(runs.c.created_at / HOUR), sa.Integer)
        query = (sa.select(hour.label("hour"), runs.c.status, sa.func.count())
                 .where(runs.c.created_at >= since, runs.c.created_at < until)
                 .group_by(hour, runs.c.status))
        with self.engine.connect() as conn:
            return [(int(h) * HOUR, str(status), int(n)) for h, status, n in conn.execute(query)]

    def rejections_per_hour(self, since: float, until: float) -> list[tuple[float, str, int]]:
        """``(hour start, connection, deliveries refused)`` in ``[since, until)``, from the
        hourly tallies :meth:`~ledgerlink.store.tallies.TallyStore.tally` keeps under
        :data:`REJECTED_PREFIX`."""
        query = (sa.select(tallies.c.window_start, tallies.c.key, sa.func.sum(tallies.c.count))
                 .where(tallies.c.key.startswith(REJECTED_PREFIX, autoescape=True),
                        tallies.c.window_start >= since, tallies.c.window_start < until)
                 .group_by(tallies.c.window_start, tallies.c.key))
        with self.engine.connect() as conn:
            return [(float(start), str(key)[len(REJECTED_PREFIX):], int(n or 0))
                    for start, key, n in conn.execute(query)]

    def rejections_by_reason(self, since: float, until: float) -> list[tuple[float, str, str, int]]:
        """``(hour start, connection, reason, deliveries refused)`` in ``[since, until)``: the
        same tallies as :meth:`rejections_per_hour`, split by the reason each refusal gave."""
        query = (sa.select(tallies.c.window_start, tallies.c.key, tallies.c.error, sa.func.sum(tallies.c.count))
                 .where(tallies.c.key.startswith(REJECTED_PREFIX, autoescape=True),
                        tallies.c.window_start >= since, tallies.c.window_start < until)
                 .group_by(tallies.c.window_start, tallies.c.key, tallies.c.error))
        with self.engine.connect() as conn:
            return [(float(start), str(key)[len(REJECTED_PREFIX):], str(reason or ""), int(n or 0))
                    for start, key, reason, n in conn.execute(query)]

    def forget_rejections(self, before: float) -> int:
        """Delete the refusal tallies of hours that ended before ``before``; how many rows."""
        with self.write_transaction() as conn:
            return conn.execute(tallies.delete().where(
                tallies.c.key.startswith(REJECTED_PREFIX, autoescape=True),
                tallies.c.window_end < before)).rowcount or 0

    def queue_depth(self, now: float | None = None) -> dict[str, int]:
        """The runs waiting now: ``due`` (pending or retrying, due), ``scheduled`` (due
        later), ``running`` and ``awaiting_review``, over ``ix_runs_status_due``."""
        now = self._now(now)
        due = sa.case((runs.c.due_at <= now, "due"), else_="scheduled")
        query = (sa.select(runs.c.status, due, sa.func.count())
                 .where(runs.c.status.in_(("pending", "retrying", "running", "awaiting_review")))
                 .group_by(runs.c.status, due))
        depth = {"due": 0, "scheduled": 0, "running": 0, "awaiting_review": 0}
        with self.engine.connect() as conn:
            for status, when, n in conn.execute(query):
                key = when if status in ("pending", "retrying") else str(status)
                depth[key] += int(n)
        return depth

    def oldest_due(self, now: float | None = None) -> float | None:
        """When the longest-waiting run that is due now (pending or retrying) became due;
        None when none is (``ix_runs_status_due``)."""
        now = self._now(now)
        query = sa.select(sa.func.min(runs.c.due_at)).where(runs.c.status.in_(("pending", "retrying")),
                                                            runs.c.due_at <= now)
        with self.engine.connect() as conn:
            oldest = conn.execute(query).scalar()
        return None if oldest is None else float(oldest)

    def recipe_versions(self, recipe_id: str) -> list[dict[str, Any]]:
        """Every stored version of ``recipe_id``, newest first: ``version``, ``file``,
        ``loaded_at`` (not the body)."""
        query = (sa.select(recipe_versions.c.version, recipe_versions.c.file, recipe_versions.c.loaded_at)
                 .where(recipe_versions.c.recipe_id == recipe_id)
                 .order_by(recipe_versions.c.version.desc()))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def governor_use(self, key: str, since: float) -> tuple[int, int, float | None]:
        """What the shared governor holds of ``key``: the requests started since ``since``
        (every process), how many of them have not finished, and until when the vendor said
        to wait (None: no pause)."""
        starts = governor_starts.c
        query = sa.select(sa.func.count(), sa.func.count(sa.case((starts.finished_at.is_(None), 1)))).where(
            starts.key == key, starts.started_at > since)
        with self.engine.connect() as conn:
            total, unfinished = conn.execute(query).one()
            until = conn.execute(sa.select(governor_pauses.c.until).where(governor_pauses.c.key == key)).scalar()
        return int(total or 0), int(unfinished or 0), None if until is None else float(until)
