"""On SQLite every write transaction of a process runs on one connection, so its page cache
survives from one writer to the next; it is replaced when it can no longer be used, and when
the engine's pool is disposed. PostgreSQL keeps taking a pooled connection per transaction."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from ledgerlink.store import Store
from ledgerlink.store.schema import cursors
from ledgerlink.testing.databases import migrated_db

T = 1_790_000_000.0


@pytest.fixture
def store(tmp_path):
    store = Store(migrated_db(tmp_path))
    if store.engine.dialect.name != "sqlite":
        store.dispose()
        pytest.skip("one writer connection per process is SQLite's")
    yield store
    store.dispose()


def _writer(store: Store, value: str = "v") -> object:
    """The DB-API connection one write transaction ran on (it writes a cursors row)."""
    with store.write_transaction() as conn:
        conn.execute(sa.delete(cursors).where(cursors.c.name == "test:writer"))
        conn.execute(cursors.insert().values(name="test:writer", value=value, updated_at=T))
        return conn.connection.driver_connection


def test_writers_in_different_threads_share_one_connection(store):
    seen = [_writer(store)]
    with store.engine.connect() as reader:  # holds a pooled connection (the first one, from a pool)
        reader.execute(sa.select(sa.func.count()).select_from(cursors)).scalar_one()
        threads = [threading.Thread(target=lambda i=i: seen.append(_writer(store, str(i)))) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert reader.connection.driver_connection is not seen[0]
    assert len(seen) == 5 and all(conn is seen[0] for conn in seen)
    with store.engine.connect() as conn:  # each committed: another connection reads the last
        assert conn.execute(sa.select(sa.func.count()).select_from(cursors)
                            .where(cursors.c.name == "test:writer")).scalar_one() == 1


def test_an_error_of_the_statement_keeps_the_connection_and_rolls_back(store):
    first = _writer(store, "kept")
    with pytest.raises(sa.exc.IntegrityError):
        with store.write_transaction() as conn:
            conn.execute(cursors.update().where(cursors.c.name == "test:writer").values(value="lost"))
            conn.execute(cursors.insert().values(name="test:writer", value="twice", updated_at=T))
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(cursors.c.value).where(cursors.c.name == "test:writer")).scalar_one() == "kept"
    assert _writer(store) is first
    assert store.last_health.writable


def test_a_store_error_replaces_the_connection_and_is_noted(store):
    first = _writer(store)
    with pytest.raises(sa.exc.OperationalError):
        with store.write_transaction():
            raise sa.exc.OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
    assert not store.last_health.writable
    assert _writer(store) is not first


def test_a_disposed_pool_gets_a_new_writer_and_dispose_closes_it(store):
    first = _writer(store)
    store.engine.dispose()
    second = _writer(store)
    assert second is not first
    with pytest.raises(sqlite3.ProgrammingError):  # closed with the old pool's connections
        first.execute("SELECT 1")
    store.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        second.execute("SELECT 1")
