"""Polls and trigger cursors (``cursors``): a poll's row holds its cursor and is also its
schedule and its lease, so each due poll fires once across processes. The warnings of a
poll's last success are kept beside it (the row ``warnings:<poll name>``, a JSON list), until
a poll without warnings removes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.store.base import StoreBase, retried_on_deadlock
from ledgerlink.store.database import insert_ignore
from ledgerlink.store.events import InboxItem, Stored, store_events
from ledgerlink.store.schema import cursors

_INSERT_CURSOR_BY_DIALECT = insert_ignore(cursors, "name")


class PollStore(StoreBase):
    """Polls (their schedule, lease and cursor) and the cursors triggers keep."""

    def claim_poll(self, name: str, owner: str, lease_seconds: float,
                   now: float | None = None) -> tuple[bool, str | None]:
        """Take the poll ``name`` if it is due and nobody holds it. Returns (taken, cursor);
        the cursor is None before the first successful poll. A compare-and-set on one row,
        so exactly one process of many takes each due poll."""
        now = self._now(now)
        with self.write_transaction() as conn:
            conn.execute(_INSERT_CURSOR_BY_DIALECT[self.engine.dialect.name],
                         {"name": name, "value": "", "updated_at": now, "due_at": now})
            row = conn.execute(
                cursors.update().where(cursors.c.name == name, sa.or_(cursors.c.due_at.is_(None),
                                                                      cursors.c.due_at <= now),
                                       sa.or_(cursors.c.lease_until.is_(None), cursors.c.lease_until < now))
                .values(lease_owner=owner, lease_until=now + lease_seconds)
                .returning(cursors.c.value)).first()
        if row is None:
            return False, None
        return True, (row[0] or None)

    @retried_on_deadlock
    def finish_poll(self, name: str, owner: str, connection: str, items: Iterable[InboxItem], cursor: str,
                    due_at: float, now: float | None = None, warnings: Sequence[str] = ()) -> list[Stored] | None:
        """Store what a poll found, advance its cursor, schedule the next poll and keep its
        ``warnings`` (none: the last ones are cleared), in one transaction. None (nothing
        stored) when the lease was lost meanwhile."""
        now = self._now(now)
        with self.write_transaction() as conn:
            held = conn.execute(cursors.update().where(cursors.c.name == name, cursors.c.lease_owner == owner)
                                .values(value=cursor, updated_at=now, due_at=due_at, lease_owner=None,
                                        lease_until=None, last_error=None)).rowcount == 1
            if not held:
                conn.rollback()
                return None
            note = _warnings_row(name)
            if not warnings:
                conn.execute(cursors.delete().where(cursors.c.name == note))
            elif conn.execute(cursors.update().where(cursors.c.name == note)
                              .values(value=jsonio.dumps(list(warnings)), updated_at=now)).rowcount == 0:
                conn.execute(cursors.insert().values(name=note, value=jsonio.dumps(list(warnings)), updated_at=now))
            results = store_events(conn, connection, items, now)
            if any(new for _, new, _ in results):
                self._wake_others(conn)
            return results

    def fail_poll(self, name: str, owner: str, error: str, due_at: float) -> bool:
        """Give a poll back after an error; the cursor stays where it was."""
        with self.write_transaction() as conn:
            return conn.execute(cursors.update().where(cursors.c.name == name, cursors.c.lease_owner == owner)
                                .values(due_at=due_at, lease_owner=None, lease_until=None,
                                        last_error=error)).rowcount == 1

    def polls(self) -> list[dict[str, Any]]:
        """Every poll's row: its cursor, schedule (``updated_at``: when a poll last succeeded),
        holder, last error (of a failed poll since) and the warnings of its last success."""
        with self.engine.connect() as conn:
            rows = [dict(row) for row in conn.execute(
                sa.select(cursors.c.name, cursors.c.value, cursors.c.updated_at, cursors.c.due_at,
                          cursors.c.lease_owner, cursors.c.last_error)
                .where(cursors.c.name.like("poll:%"))).mappings()]
            notes = dict(conn.execute(sa.select(cursors.c.name, cursors.c.value)
                                      .where(cursors.c.name.like(_warnings_row("poll:%")))).all())
        for row in rows:
            row["warnings"] = jsonio.loads(notes[_warnings_row(row["name"])]) \
                if _warnings_row(row["name"]) in notes else []
        return rows

    def poll_due_now(self, connection: str, now: float | None = None) -> bool:
        """Make the poll of ``connection`` due now (the connection can be used again); False
        when it has never polled."""
        now = self._now(now)
        with self.write_transaction() as conn:
            return conn.execute(cursors.update().where(cursors.c.name == poll_name(connection))
                                .values(due_at=now)).rowcount == 1

    # --- cursors -----------------------------------------------------------------------------

    def cursor(self, name: str) -> str | None:
        """The cursor stored under ``name``; None when there is none."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(cursors.c.value).where(cursors.c.name == name)).scalar()

    def set_cursor(self, name: str, value: str, now: float | None = None) -> None:
        """Store the cursor ``name``, replacing what was stored."""
        now = self._now(now)
        with self.write_transaction() as conn:
            if conn.execute(cursors.update().where(cursors.c.name == name)
                            .values(value=value, updated_at=now)).rowcount == 0:
                conn.execute(cursors.insert().values(name=name, value=value, updated_at=now))


def poll_name(connection: str) -> str:
    """The name of the cursors row of ``connection``'s poll (its cursor, schedule and lease)."""
    return f"poll:{connection}"


def _warnings_row(poll: str) -> str:
    """The name of the cursors row keeping the warnings of the poll named ``poll``."""
    return f"warnings:{poll}"
