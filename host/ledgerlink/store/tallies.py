"""Tallies (``tallies``): occurrences of a key counted per time window, by every process
together, with the runs they came from and the errors met.

A window of ``length`` seconds starts at a multiple of its length (Unix seconds), so every
process files an occurrence at the same time under the same window. Each increment is one
INSERT … ON CONFLICT DO UPDATE on the row of (key, window, error): concurrent processes
never lose a count, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ledgerlink.contract.events import Tally
from ledgerlink.store.base import StoreBase, retried_on_deadlock
from ledgerlink.store.schema import tallies

#: the longest error a tally keeps (the column's width)
MAX_ERROR = 500
#: settled tallies are kept this long after their window ended, then deleted
KEEP_SECONDS = 7 * 86400.0


def window_of(at: float, length: float) -> tuple[float, float]:
    """The window of ``length`` seconds holding ``at``: (start, end)."""
    start = math.floor(at / length) * length
    return start, start + length


def _upsert(dialect: str) -> sa.Insert:
    stmt = (sqlite.insert(tallies) if dialect == "sqlite" else postgresql.insert(tallies))
    new = stmt.excluded
    first = sa.case((sa.or_(tallies.c.first_run.is_(None), new.first_run < tallies.c.first_run), new.first_run),
                    else_=tallies.c.first_run)
    last = sa.case((sa.or_(tallies.c.last_run.is_(None), new.last_run > tallies.c.last_run), new.last_run),
                   else_=tallies.c.last_run)
    return stmt.on_conflict_do_update(index_elements=["key", "window_start", "error"],
                                      set_={"count": tallies.c.count + 1, "first_run": first, "last_run": last})


class TallyStore(StoreBase):
    """Count occurrences per key and window; list and settle the windows that ended."""

    @retried_on_deadlock
    def tally(self, key: str, length: float, error: str | None = None, run_id: int | None = None,
              at: float | None = None) -> Tally:
        """Count one occurrence of ``key`` at ``at`` (default now) in its window of
        ``length`` seconds; returns the window's tally with this occurrence counted."""
        at = self._now(at)
        start, end = window_of(at, length)
        text = (error or "")[:MAX_ERROR]
        with self.write_transaction() as conn:
            conn.execute(_upsert(self.engine.dialect.name),
                         {"key": key, "window_start": start, "error": text, "window_end": end, "count": 1,
                          "first_run": run_id, "last_run": run_id, "settled": False})
            return _read(conn, key, start, end)

    def closed_tallies(self, prefix: str, before: float) -> list[Tally]:
        """The unsettled tallies of keys starting with ``prefix`` whose window ended at or
        before ``before``, oldest first."""
        with self.engine.connect() as conn:
            windows = conn.execute(
                sa.select(tallies.c.key, tallies.c.window_start, tallies.c.window_end).distinct()
                .where(tallies.c.settled.is_(False), tallies.c.window_end <= before,
                       tallies.c.key.startswith(prefix, autoescape=True))
                .order_by(tallies.c.window_start, tallies.c.key)).all()
            return [_read(conn, key, start, end) for key, start, end in windows]

    def settle(self, tally: Tally, now: float | None = None) -> bool:
        """Mark a closed window handled; True when this call marked it (one caller of many).
        Windows settled long ago are deleted on the way."""
        now = self._now(now)
        with self.write_transaction() as conn:
            marked = conn.execute(tallies.update().where(tallies.c.key == tally.key,
                                                         tallies.c.window_start == tally.window_start,
                                                         tallies.c.settled.is_(False))
                                  .values(settled=True)).rowcount > 0
            conn.execute(tallies.delete().where(tallies.c.settled.is_(True),
                                                tallies.c.window_end < now - KEEP_SECONDS))
            return marked


def _read(conn: sa.Connection, key: str, start: float, end: float) -> Tally:
    where = (tallies.c.key == key, tallies.c.window_start == start)
    count, first, last = conn.execute(sa.select(sa.func.sum(tallies.c.count), sa.func.min(tallies.c.first_run),
                                                sa.func.max(tallies.c.last_run)).where(*where)).one()
    top = conn.execute(sa.select(tallies.c.error, tallies.c.count).where(*where, tallies.c.error != "")
                       .order_by(tallies.c.count.desc(), tallies.c.error).limit(1)).first()
    return Tally(key, start, end, int(count or 0), first, last, top[0] if top else None, int(top[1]) if top else 0)
