"""The writer lock between processes sharing a SQLite file: real child processes write,
hold the lock, are killed holding it; a writer kept out past the timeout gets the store's
"cannot take writes" handling; PostgreSQL and in-memory SQLite take no lock file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledgerlink.store import Store
from ledgerlink.store.database import unavailable
from ledgerlink.store.schema import cursors
from ledgerlink.store.writer_lock import SUFFIX, WriterLock, lock_path
from ledgerlink.testing.databases import fresh_db

#: a child that writes ROWS cursor rows, one write transaction each, named after its tag
WRITER = """
import sys
from ledgerlink.store import Store
from ledgerlink.store.schema import cursors
store = Store(sys.argv[1])
for i in range(int(sys.argv[3])):
    with store.write_transaction() as conn:
        conn.execute(cursors.insert().values(name=f"{sys.argv[2]}-{i}", value="x", updated_at=0.0))
print("done", flush=True)
"""

#: a child that takes the lock, says so, and holds it until killed
HOLDER = """
import sys, time
from ledgerlink.store.writer_lock import WriterLock
lock = WriterLock(sys.argv[1], 10.0)
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file whatever database the suite runs on (this lock is SQLite's)."""
    url = f"sqlite:///{tmp_path / 'ledgerlink.db'}"
    from ledgerlink import store as store_module
    store_module.upgrade(url)
    return url


def holder(path: str) -> subprocess.Popen[str]:
    """A child process holding the lock on ``path`` (returns once it does)."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, path], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


def test_two_processes_writing_at_once_both_proceed_and_nothing_is_lost(tmp_path):
    url = sqlite_url(tmp_path)
    rows = 150
    children = [subprocess.Popen([sys.executable, "-c", WRITER, url, tag, str(rows)],
                                 stdout=subprocess.PIPE, text=True) for tag in ("serve", "worker")]
    # this process writes too, on its own Store, while both children do
    store = Store(url)
    for i in range(rows):
        with store.write_transaction() as conn:
            conn.execute(cursors.insert().values(name=f"parent-{i}", value="x", updated_at=0.0))
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0 and out.strip() == "done"
    with store.engine.connect() as conn:
        names = set(conn.execute(sa.select(cursors.c.name)).scalars())
    for tag in ("serve", "worker", "parent"):
        assert {f"{tag}-{i}" for i in range(rows)} <= names
    assert Path(lock_path(store.engine) or "").exists()
    store.dispose()


def test_a_holder_killed_with_sigkill_lets_the_others_write(tmp_path):
    url = sqlite_url(tmp_path)
    store = Store(url)
    path = lock_path(store.engine)
    assert path == str(tmp_path / "ledgerlink.db") + SUFFIX
    child = holder(path)
    try:
        # held by the child: a try bounded at a fraction of a second is refused
        probe = WriterLock(path, 0.2)
        with pytest.raises(sa.exc.OperationalError):
            probe.acquire()
    finally:
        kill(child)
    # the kernel released the dead holder's lock: the store writes, and the lock is free
    with store.write_transaction() as conn:
        conn.execute(cursors.insert().values(name="after-kill", value="x", updated_at=0.0))
    assert store.last_health.writable
    probe.acquire()
    probe.release()
    probe.close()
    store.dispose()


def test_a_writer_kept_out_past_the_timeout_gets_store_unavailable_and_lets_go(tmp_path, caplog):
    url = sqlite_url(tmp_path)
    store = Store(url)
    assert store._writer_lock is not None
    store._writer_lock.timeout = 0.3
    child = holder(lock_path(store.engine) or "")
    try:
        with pytest.raises(sa.exc.OperationalError) as info:
            with store.write_transaction() as conn:
                conn.execute(cursors.insert().values(name="never", value="x", updated_at=0.0))
        # the error SQLite gives after its busy timeout, handled as it is today
        assert unavailable(info.value) and "database is locked" in str(info.value)
        assert not store.last_health.writable
        assert "cannot take writes" in caplog.text
    finally:
        kill(child)
    # the helper that got the lock after its writer gave up did not keep it: another
    # process takes it, and this store writes again
    out = subprocess.run([sys.executable, "-c", WRITER, url, "next", "1"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr
    with store.write_transaction() as conn:
        conn.execute(cursors.insert().values(name="again", value="x", updated_at=0.0))
    with store.engine.connect() as conn:
        names = set(conn.execute(sa.select(cursors.c.name)).scalars())
    assert {"next-0", "again"} <= names and "never" not in names
    store.dispose()


def test_postgresql_and_in_memory_sqlite_take_no_lock_file(tmp_path):
    pg = sa.create_engine("postgresql+psycopg://ledgerlink@127.0.0.1:1/ledgerlink")  # never connected
    assert lock_path(pg) is None
    assert lock_path(sa.create_engine("sqlite://")) is None
    assert lock_path(sa.create_engine("sqlite:///:memory:")) is None
    assert Store("postgresql://ledgerlink@127.0.0.1:1/ledgerlink")._writer_lock is None
    assert Store("sqlite://", engine=sa.create_engine("sqlite://"))._writer_lock is None
    assert not list(tmp_path.glob("*" + SUFFIX))


def test_the_suite_database_gets_a_lock_file_only_on_sqlite(tmp_path):
    store = Store(fresh_db(tmp_path, migrated=True))
    assert (store._writer_lock is not None) == (store.engine.dialect.name == "sqlite")
    with store.write_transaction() as conn:
        conn.execute(cursors.insert().values(name="one", value="x", updated_at=0.0))
    store.dispose()


def test_a_store_written_again_after_dispose_takes_the_lock_again(tmp_path):
    """``dispose()`` closes the lock file as it closes the engine's connections; a store used
    again (a pool stopping after its runtime closed) opens both again, and still keeps another
    process's writer out while it writes."""
    url = sqlite_url(tmp_path)
    store = Store(url)
    store.dispose()
    with store.write_transaction() as conn:
        conn.execute(cursors.insert().values(name="after-dispose", value="x", updated_at=0.0))
        other = WriterLock(lock_path(store.engine) or "", timeout=0.2)
        with pytest.raises(sa.exc.OperationalError):
            other.acquire()  # the lock is held again while this store writes
        other.close()
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(cursors.c.name)).scalars().all() == ["after-dispose"]
    store.dispose()
