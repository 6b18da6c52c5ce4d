"""Connection secrets (``connection_secrets``): each connection's encrypted secret blob and
its status. The blob is encrypted and decrypted by the caller (:mod:`ledgerlink.io.secrets`);
the store only keeps it, and locks it while a token is refreshed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from ledgerlink.store.base import StoreBase
from ledgerlink.store.schema import connection_secrets

Result = TypeVar("Result")

#: ``change(blob, status)`` → ``(blob, status, result)`` to store, or ``(None, None, result)``
#: to keep what is stored
SecretChange = Callable[[bytes | None, str | None], tuple[bytes | None, str | None, Result]]


class ConnectionStore(StoreBase):
    """Connection secret blobs and statuses."""

    def secret_blob(self, connection: str) -> tuple[bytes, str] | None:
        """The stored (encrypted blob, status) of ``connection``; None when it has none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(connection_secrets.c.data, connection_secrets.c.status)
                               .where(connection_secrets.c.connection == connection)).first()
        return (bytes(row[0]), row[1]) if row else None

    def put_secret_blob(self, connection: str, data: bytes, status: str = "ok", now: float | None = None) -> None:
        """Store ``connection``'s encrypted blob and status, replacing what was stored."""
        now = self._now(now)
        with self.write_transaction() as conn:
            if conn.execute(connection_secrets.update().where(connection_secrets.c.connection == connection)
                            .values(data=data, status=status, updated_at=now)).rowcount == 0:
                conn.execute(connection_secrets.insert().values(connection=connection, data=data,
                                                                status=status, updated_at=now))

    def locked_secret(self, connection: str, change: SecretChange[Result]) -> Result:
        """Read-modify-write a connection's secret blob while holding a lock on it.

        ``change(blob, status)`` gets the stored (blob, status) — (None, None) when absent —
        and returns ``(blob, status, result)`` to store, or ``(None, None, result)`` to keep
        them. The lock is the row lock on PostgreSQL and the database write lock on SQLite,
        so one process refreshes a token while the others wait and then read its result.
        """
        now = self._now(None)
        with self.write_transaction() as conn:
            touched = conn.execute(connection_secrets.update()
                                   .where(connection_secrets.c.connection == connection)
                                   .values(updated_at=connection_secrets.c.updated_at)).rowcount
            row = conn.execute(sa.select(connection_secrets.c.data, connection_secrets.c.status)
                               .where(connection_secrets.c.connection == connection)).first()
            blob, status = (bytes(row[0]), row[1]) if row else (None, None)
            new_blob, new_status, result = change(blob, status)
            if new_blob is not None:
                if touched:
                    conn.execute(connection_secrets.update().where(connection_secrets.c.connection == connection)
                                 .values(data=new_blob, status=new_status, updated_at=now))
                else:
                    conn.execute(connection_secrets.insert().values(connection=connection, data=new_blob,
                                                                    status=new_status, updated_at=now))
        return result

    def connection_statuses(self) -> dict[str, tuple[str, float]]:
        """Per connection with a stored secret: (status, when it last changed)."""
        with self.engine.connect() as conn:
            return {name: (status, updated) for name, status, updated in conn.execute(
                sa.select(connection_secrets.c.connection, connection_secrets.c.status,
                          connection_secrets.c.updated_at))}
