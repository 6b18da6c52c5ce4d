"""What every table family of the store stands on: the engine, the write transaction, the
clock, the store's health (does it take writes?) and the "there is work" signal between
processes.

Each family (:mod:`.events`, :mod:`.polls`, :mod:`.runs`, …) is a mixin over
:class:`StoreBase`; :class:`ledgerlink.store.Store` composes them into the one object the
rest of ledgerlink holds.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from ledgerlink.errors import NotMigrated, StoreError
from ledgerlink.store.database import (
    BUSY_TIMEOUT_MS, DEFAULT_URL, current_revision, driver_url, insert_ignore, shipped_head,
    make_engine, reason, unavailable,
)
from ledgerlink.store.schema import cursors
from ledgerlink.store.writer_lock import WriterLock, lock_path

log = logging.getLogger("ledgerlink")

#: the cursors row the write probe updates
HEALTH_ROW = "ledgerlink:health"


@dataclass(frozen=True)
class StoreHealth:
    """Whether the store takes writes: ``error`` says why not, since ``since`` (Unix time)."""

    writable: bool
    error: str | None = None
    since: float | None = None


#: how often a transaction PostgreSQL chose as a deadlock's victim is run again
DEADLOCK_ATTEMPTS = 5

F = TypeVar("F", bound=Callable[..., Any])


def deadlocked(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL aborting a transaction to break a deadlock (SQLSTATE 40P01)."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "40P01"


def retried_on_deadlock(method: F) -> F:
    """Run a store method's write transaction again when PostgreSQL aborted it to break a
    deadlock: two processes storing events about the same objects in different orders each
    wait on a unique key the other inserted first (the runs' occurrences). The victim's
    transaction was rolled back whole, so running it again is safe; it then finds the other's
    rows and plans nothing twice."""
    @functools.wraps(method)
    def again(self: Any, *args: Any, **kwargs: Any) -> Any:
        attempt = 1
        while True:
            try:
                return method(self, *args, **kwargs)
            except sa.exc.DBAPIError as exc:
                if attempt >= DEADLOCK_ATTEMPTS or not deadlocked(exc):
                    raise
                attempt += 1
                log.info("%s: a deadlock with another writer; running the transaction again (%d of %d)",
                         method.__name__, attempt, DEADLOCK_ATTEMPTS)
                time.sleep((1 + secrets.randbelow(20)) / 1000 * attempt)
    return again  # type: ignore[return-value]


def _discard(conn: sa.Connection) -> None:
    """Close ``conn``'s DB-API connection for good rather than hand it back to its pool (the
    next checkout opens a new one)."""
    try:
        if not conn.closed and not conn.invalidated:
            conn.invalidate()
        conn.close()
    except sa.exc.SQLAlchemyError:
        pass


class StoreBase:
    """The engine, the write transaction and the clock; health, lifecycle and wake-ups.

    Thread-safe (a connection per call)."""

    #: the channel workers LISTEN on (PostgreSQL): "there is work", sent at commit
    CHANNEL = "ledgerlink_work"

    def __init__(self, url: str = DEFAULT_URL, engine: sa.Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        # SQLite lets one writer in at a time and makes the others poll with sleeps of up to
        # 100 ms; queueing writers on a lock inside the process is fair and far faster
        self._write_lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        # and between processes sharing a SQLite file, on a lock file beside it, bounded
        # like SQLite's busy timeout
        path = lock_path(self.engine)
        self._writer_lock: WriterLock | None = None
        if path and os.path.isdir(os.path.dirname(path)):  # no folder: no database to share either
            try:
                self._writer_lock = WriterLock(path, BUSY_TIMEOUT_MS / 1000)
            except OSError as exc:  # a read-only folder: SQLite's busy handler alone, as before
                log.debug("no writer lock file %s: %s", path, exc.strerror)
        self._postgres = self.engine.dialect.name == "postgresql"
        #: seconds a write probe's answer is reused (see :meth:`health`)
        self.probe_seconds = 2.0
        #: bytes the probe writes while the store is down: it is up again only once a write
        #: as large as the largest delivery fits (the runtime sets its max_body_bytes)
        self.recovery_probe_bytes = 1_000_000
        self._health = StoreHealth(True)
        self._probed_at: float | None = None
        self._health_lock = threading.Lock()
        self._probe_lock = threading.Lock()
        #: on SQLite, the one connection every write transaction of this process runs on,
        #: under the write lock (see :meth:`write_transaction`); opened on the first write
        self._writer: sa.Connection | None = None
        self._writer_pool: sa.pool.Pool | None = None

    @staticmethod
    def _now(now: float | None) -> float:
        """The time a change records: ``now`` when the caller gives one, else the wall clock."""
        return time.time() if now is None else now

    @contextmanager
    def write_transaction(self) -> Iterator[sa.Connection]:
        """A write transaction; on SQLite, one at a time in this process. A failure that
        means the store cannot take writes (:func:`unavailable`) is noted (:meth:`note_unavailable`).

        On SQLite every write transaction of the process runs on one connection, kept open
        and used under the write lock. SQLite drops a connection's whole page cache when it
        finds that another connection changed the database, so writers taking turns on
        connections from the pool read every page they touch again from the file; the one
        writer keeps its cache (its own writes do not stale it) and skips the pool's
        checkout and reset besides. After an error that leaves it unusable, and after the
        engine's pool was disposed, it is replaced."""
        try:
            if self._write_lock is None:
                with self.engine.begin() as conn:
                    yield conn
                return
            with self._write_lock:
                conn = self._writer
                if conn is None or self._writer_pool is not self.engine.pool:  # disposed: a new one too
                    if conn is not None:
                        _discard(conn)
                    conn = self._writer = self.engine.connect()
                    self._writer_pool = self.engine.pool
                try:
                    with self._writer_lock.held() if self._writer_lock else nullcontext(), conn.begin():
                        yield conn
                except BaseException as exc:
                    if conn.invalidated or conn.closed or isinstance(exc, sa.exc.DBAPIError) and unavailable(exc):
                        self._writer = None
                        _discard(conn)
                    raise
        except sa.exc.DBAPIError as exc:
            if unavailable(exc):
                self.note_unavailable(exc)
            raise

    # --- wake-ups between processes --------------------------------------------------------

    def _wake_others(self, conn: sa.Connection) -> None:
        """Tell every process's workers, when this transaction commits, that runs or
        fetches are due (PostgreSQL NOTIFY; other processes on SQLite poll)."""
        if self._postgres:
            conn.exec_driver_sql(f"NOTIFY {self.CHANNEL}")

    def listen(self, wake: Callable[[], object], stop: threading.Event, timeout: float = 1.0) -> None:
        """Call ``wake()`` whenever another process says there is work (PostgreSQL
        LISTEN/NOTIFY), until ``stop`` is set. Reconnects after the server went away; the
        workers' polling covers the gap. Returns at once on SQLite."""
        if not self._postgres:
            return
        import psycopg

        conninfo = sa.engine.make_url(driver_url(self.url)).set(drivername="postgresql") \
            .render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5,
                                     application_name="ledgerlink-listener") as conn:
                    conn.execute(f"LISTEN {self.CHANNEL}")
                    wake()  # whatever was sent while not listening
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=timeout, stop_after=1):
                            wake()
            except psycopg.Error:
                stop.wait(1.0)

    # --- health ----------------------------------------------------------------------------

    def note_unavailable(self, exc: BaseException) -> None:
        """Record that the store cannot take writes; logs one warning when that starts."""
        with self._health_lock:
            if not self._health.writable:
                return
            self._health = StoreHealth(False, reason(exc), time.time())
        log.warning("the database %s cannot take writes: %s; webhooks are answered 503 (the vendors "
                    "resend) and runs wait until it can", self.safe_url, self._health.error)

    def _note_writable(self) -> None:
        """Record that the store takes writes again; logs one warning when it does."""
        with self._health_lock:
            was = self._health
            if was.writable:
                return
            self._health = StoreHealth(True)
        log.warning("the database %s takes writes again, after %.0f s", self.safe_url,
                    time.time() - (was.since or time.time()))

    @property
    def last_health(self) -> StoreHealth:
        """What the last write or probe showed, without probing."""
        return self._health

    def health(self) -> StoreHealth:
        """Whether the store takes a write now: a write probe (the ``ledgerlink:health`` row
        updated in a transaction that commits) at most every ``probe_seconds``; between
        probes, what it and every write since showed, so a write that fails between probes
        is reported at once. Only a probe clears a failure, and while the store is down the
        probe writes ``recovery_probe_bytes`` of incompressible text: a nearly full disk
        can take a small write where a delivery no longer fits."""
        now = time.monotonic()
        if self._probed_at is not None and now - self._probed_at < self.probe_seconds:
            return self._health
        if not self._probe_lock.acquire(blocking=False):  # another thread is probing
            return self._health
        try:
            self._probe()
            self._probed_at = time.monotonic()
        finally:
            self._probe_lock.release()
        return self._health

    def _probe(self) -> None:
        """Write the health row in a transaction that commits, and note what that showed."""
        now = time.time()
        value = repr(now) if self._health.writable else secrets.token_hex(self.recovery_probe_bytes // 2)
        try:
            with self.write_transaction() as conn:
                if conn.execute(cursors.update().where(cursors.c.name == HEALTH_ROW)
                                .values(value=value, updated_at=now)).rowcount == 0:
                    conn.execute(insert_ignore(cursors, "name")[self.engine.dialect.name],
                                 {"name": HEALTH_ROW, "value": value, "updated_at": now})
        except sa.exc.DBAPIError as exc:  # the probe's statements are right: any error is the store's
            self.note_unavailable(exc)
        else:
            self._note_writable()

    # --- lifecycle -------------------------------------------------------------------------

    def check_migrated(self) -> None:
        """Raise NotMigrated unless the database is at the newest migration."""
        head = shipped_head()
        try:
            current = current_revision(self.engine)
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open the database {self.safe_url}: {exc.orig}") from None
        if current != head:
            raise NotMigrated(
                f"the database {self.safe_url} is at migration {current or 'none'}, not {head}; "
                f"run `ledgerlink db upgrade --db {self.safe_url}` first")

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close the pooled connections and the writer lock file (the store is not used afterwards)."""
        if self._write_lock is not None:
            with self._write_lock:
                if self._writer is not None:
                    _discard(self._writer)
                    self._writer = None
        self.engine.dispose()
        if self._writer_lock is not None:
            self._writer_lock.close()
