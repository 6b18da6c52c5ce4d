"""Links (``links``): which entity a run created in the target system for a source object,
so a later run finds it instead of creating it again.
"""

from __future__ import annotations

import sqlalchemy as sa

from ledgerlink.store.base import StoreBase
from ledgerlink.store.schema import links

class LinkStore(StoreBase):
    """Reading links; they are written with the step that created the entity
    (:meth:`~ledgerlink.store.run_log.RunLogStore.log_step`, :data:`ledgerlink.store.hot.INSERT_LINK`)."""

    def linked_target(self, target_connection: str, source_id: str, target_type: str) -> str | None:
        """The id of the entity of ``target_type`` linked to ``source_id`` in ``target_connection``."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(links.c.target_id).where(
                links.c.target_connection == target_connection, links.c.source_id == source_id,
                links.c.target_type == target_type).order_by(links.c.id).limit(1)).scalar()

    def linked_source(self, target_connection: str, target_id: str, target_types: tuple[str, ...] = (),
                      source_connection: str | None = None) -> str | None:
        """The source id an entity of ``target_connection`` was linked to when a run created
        (or found) it — the other way round from :meth:`linked_target`: "which Stripe
        invoice did this ledger invoice come from?" ``target_types`` (e.g. the action names
        that create such entities) narrow it where ids repeat across kinds;
        ``source_connection`` names where the source must be. None: not linked."""
        query = sa.select(links.c.source_id).where(links.c.target_connection == target_connection,
                                                   links.c.target_id == target_id)
        if target_types:
            query = query.where(links.c.target_type.in_(target_types))
        if source_connection is not None:
            query = query.where(links.c.source_connection == source_connection)
        with self.engine.connect() as conn:
            return conn.execute(query.order_by(links.c.id).limit(1)).scalar()
