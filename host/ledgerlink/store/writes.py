"""What ledgerlink wrote (``writes``): each entity a step created or changed, per connection
and kind of entity, and when — so an event about it that is no later is known as ledgerlink's
own echo (:mod:`ledgerlink.engine.echo`). Rows are written with the step that wrote
(:meth:`~ledgerlink.store.run_log.RunLogStore.log_step`, :data:`ledgerlink.store.hot.INSERT_WRITE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ledgerlink.store.base import StoreBase
from ledgerlink.store.schema import writes


@dataclass(frozen=True)
class Write:
    """ledgerlink's latest write of one entity: by which run and step, and when (Unix seconds)."""

    run_id: int
    step_id: str
    written_at: float


class WriteStore(StoreBase):
    """Reading what ledgerlink wrote."""

    def written_kinds(self) -> frozenset[tuple[str, str]]:
        """The (connection, entity kind) pairs ledgerlink ever wrote (the index's first two
        columns, read once when the recipes are loaded)."""
        with self.engine.connect() as conn:
            return frozenset((str(c), str(e)) for c, e in conn.execute(
                sa.select(writes.c.connection, writes.c.entity).distinct()))

    def last_write(self, connection: str, entity: str, entity_id: str) -> Write | None:
        """ledgerlink's latest write of the ``entity`` ``entity_id`` on ``connection``, or None
        when ledgerlink never wrote it."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(writes.c.run_id, writes.c.step_id, writes.c.written_at).where(
                writes.c.connection == connection, writes.c.entity == entity, writes.c.entity_id == entity_id)
                .order_by(writes.c.written_at.desc()).limit(1)).first()
        return None if row is None else Write(*row)
