"""One writer at a time across the processes sharing a SQLite file, queued in the kernel.

SQLite lets one connection write at a time; a connection that finds the write lock taken
falls on the busy handler, which sleeps 1, 2, 5, 10 … 100 ms between tries. Against a
commit of a fraction of a millisecond that is slow, and unfair: a process that writes
often takes the lock again between another's sleeps, so that one can wait hundreds of
milliseconds. Within a process :class:`~ledgerlink.store.base.StoreBase` already queues
writers on a ``threading.Lock``; :class:`WriterLock` does the same between processes
(``serve --workers 0`` and ``ledgerlink worker``) with ``flock`` on a file beside the
database, ``<db>.writer-lock``: a waiter sleeps in the kernel and is woken as soon as the
holder lets go.

Bounded like SQLite's busy timeout: a non-blocking try first; when the lock is taken, one
helper thread blocks in ``flock`` while the writer waits for it at most ``timeout``
seconds, then gets the error SQLite gives after its busy timeout (``database is locked``,
SQLITE_BUSY), which the store reports as "store unavailable". A helper that gets the lock
after its writer gave up releases it at once (or hands it to the next writer of the
process). A process that dies holding the lock loses it with its file descriptor (the
kernel releases ``flock`` locks on close). SQLite's own locking and busy handler stay as
they are: a process that does not take this lock (an older version, the sqlite3 shell) is
still kept out by SQLite.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

#: what the lock file's name adds to the database's
SUFFIX = ".writer-lock"


def lock_path(engine: sa.Engine) -> str | None:
    """The lock file for ``engine``'s database: ``None`` unless it is a SQLite file
    (PostgreSQL and in-memory SQLite need no lock between processes)."""
    url = engine.url
    if engine.dialect.name != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return os.path.abspath(database) + SUFFIX


def busy_error() -> sa.exc.OperationalError:
    """The error a write gets today when SQLite's busy timeout runs out."""
    orig = sqlite3.OperationalError("database is locked (another process held the writer lock too long)")
    orig.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    orig.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]
    return sa.exc.OperationalError("BEGIN", None, orig)


class _Waiter:
    """A helper thread's errand: ``got`` is set when it holds the lock for a writer still
    ``wanted`` it."""

    def __init__(self) -> None:
        self.got = threading.Event()
        self.wanted = True


class WriterLock:
    """An exclusive ``flock`` on ``path``, opened once, taken within ``timeout`` seconds or
    :func:`busy_error`. Callers take it one thread at a time (under the store's in-process
    write lock)."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._mutex = threading.Lock()
        self._waiter: _Waiter | None = None
        self._pid = -1
        self._fd = -1
        self._open()

    def _open(self) -> None:
        """Open the file in this process (a forked child opens its own: a shared open file
        would share its lock; a store used again after ``dispose()`` opens it again, as its
        engine opens new connections)."""
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._pid = os.getpid()
        self._closer = weakref.finalize(self, _close, self._fd, self._pid)

    def acquire(self) -> None:
        """Take the lock, waiting at most ``timeout`` seconds; else raise :func:`busy_error`."""
        if self._pid != os.getpid() or self._fd < 0:  # forked, or closed by the store's dispose()
            self._waiter = None
            self._open()
        with self._mutex:
            waiter = self._waiter
            if waiter is None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    pass
                waiter = self._waiter = _Waiter()
                threading.Thread(target=self._take, args=(waiter,), name="ledgerlink-writer-lock",
                                 daemon=True).start()
            waiter.wanted = True
        if waiter.got.wait(self.timeout):
            return
        with self._mutex:
            if waiter.got.is_set():  # handed over just as the wait ran out
                return
            waiter.wanted = False
        raise busy_error()

    def _take(self, waiter: _Waiter) -> None:
        """The helper thread: block in ``flock`` until the lock is free, then hand it to the
        writer if it still waits, else let it go. When the file was closed meanwhile (the
        store disposed), there is nothing to let go: closing it released the lock."""
        fd = self._fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except (OSError, ValueError):  # closed under it
            return
        with self._mutex:
            if self._waiter is waiter:
                self._waiter = None
            if waiter.wanted and self._fd == fd:
                waiter.got.set()
                return
            if self._fd == fd:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def release(self) -> None:
        """Let the next writer, of any process, in."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    @contextmanager
    def held(self) -> Iterator[None]:
        """The lock for the duration of the block."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def close(self) -> None:
        """Close the file (releasing the lock if held)."""
        self._closer()  # closes once, whether called here or when the lock is collected
        self._fd = -1


def _close(fd: int, pid: int) -> None:
    """Close ``fd`` if this process opened it."""
    if pid == os.getpid():
        os.close(fd)
