"""The rate governor shared through the database, for N processes on N machines.

:class:`~ledgerlink.io.governor.local.LocalGovernor` keeps one process inside a vendor's
per-tenant limits; with several processes each would spend the whole allowance, and together
they would run into the vendor's 429s. :class:`SharedGovernor` satisfies the same protocol
(:class:`~ledgerlink.io.governor.Governor`) and counts in the database instead: each request
started against a tenant is a row of ``governor_starts`` (finished when its answer arrives),
so every process sees one sliding window, one concurrency count and one daily count per
tenant.

A request counts in the window from its answer, not from its start: when the answer
arrives its row's ``started_at`` moves forward by the time the request took (measured on
this process's monotonic clock from before the slot was asked for, so it errs late, and no
two machines' clocks are compared). The vendor received the request somewhere between the
two, so a slot given ``per_seconds`` after the answer is one the vendor's own window has
freed too, however late the request reached it: counting from the start, a window's
requests that reached the vendor late and the next window's that reached it early are in
one of the vendor's windows together, and a busy machine meets 429s at full rate. It costs
one request's duration per window.

Taking a slot is one short transaction: on PostgreSQL it holds a transaction-scoped
advisory lock on the tenant's key and reads the time from the database server, so the
processes' own clocks do not matter; on SQLite the write lock serialises it. When no slot is
free the caller sleeps until the earliest moment one can be (the window's oldest start
leaving it, or a short poll for a concurrency slot) and tries again, up to ``max_wait``.
That moment is remembered in the process: the other threads waiting for the key sleep until
then without asking the database (a window, a pause or a day only ever frees later than the
database said, never sooner), so when a slot frees each process asks once, not each of its
threads; after ``max_wait``
then :class:`~ledgerlink.errors.Throttled` is raised, as the in-process governor does, and
the worker reschedules its run. A process that dies mid-request leaves an unfinished row;
it stops counting against the concurrency limit after ``STALE_SECONDS``.

Testing: ``SharedGovernor(store, clock=fake, sleep=fake.sleep)``. ``clock`` is Unix seconds
and then stands for every clock the governor reads (the database server's on PostgreSQL,
this process's on SQLite, and the one ``max_wait`` is measured on); ``sleep(seconds)`` is
called instead of :func:`time.sleep` and may return early (a fake clock that runs scheduled
events returns at the first one): the slot is asked for again after every return. With an
injected clock a finished request is marked finished at once, not by the background thread,
so that what the simulation does next does not depend on a thread's timing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from ledgerlink.contract.limits import Limits, Remaining
from ledgerlink.errors import Throttled
from ledgerlink.store import Store, make_engine
from ledgerlink.store.schema import governor_pauses, governor_starts

#: an unfinished start older than this no longer holds a concurrency slot (its process died)
STALE_SECONDS = 120.0
#: how often a process waiting for a concurrency slot asks again
POLL_SECONDS = 0.02


_TAKE = sa.text("SELECT slot_id, reason, wait FROM ledgerlink_take_slot(:key, :lock, :per, :budget, "
                ":concurrent, :daily, :stale, :holder, CAST(:now AS double precision))")


#: the reasons whose wait the database can tell: nothing frees the slot sooner
_PREDICTABLE = frozenset({"window", "paused", "daily"})

#: rows whose answers arrived: each counts in the window from its answer (one statement)
_FINISHED = sa.text("UPDATE governor_starts AS g SET started_at = g.started_at + u.took, "
                    "finished_at = g.started_at + u.took "
                    "FROM unnest(CAST(:ids AS integer[]), CAST(:took AS double precision[])) AS u(id, took) "
                    "WHERE g.id = u.id AND g.finished_at IS NULL")


def _mark_finished(conn: sa.Connection, rows: list[tuple[int, float]]) -> None:
    """PostgreSQL: mark ``rows`` (row id, seconds the request took) finished."""
    conn.execute(_FINISHED, {"ids": [row for row, _ in rows], "took": [took for _, took in rows]})


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory lock id for ``key``, the same in every process."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class SharedGovernor:
    """``slot(key, limits, max_wait)``, ``pause(key, seconds)`` and ``narrow(key, limits,
    remaining)``, counted in the database.

    ``clock`` (Unix seconds) and ``sleep`` replace the real ones (tests only: see the module
    docstring); without ``clock`` the time is the database server's on PostgreSQL.
    """

    def __init__(self, store: Store, holder: str | None = None, *,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        self.store = store
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self._clock = clock
        self._sleep = sleep
        self._postgres = store.engine.dialect.name == "postgresql"
        # a count lost in a server crash is harmless: do not wait for the disk on each slot
        self._engine = make_engine(store.url, durable=False, pool_size=5) if self._postgres else None
        # a slot taken or finished is one statement: no BEGIN/COMMIT round trips around it
        self._autocommit = (self._engine.execution_options(isolation_level="AUTOCOMMIT")
                            if self._engine is not None else None)
        self._taken = 0
        self._count_lock = threading.Lock()
        #: one thread per process and key asks the database at a time; the others queue
        #: here, in memory, instead of on the database's lock
        self._key_locks: dict[str, threading.Lock] = {}
        #: per key, the monotonic time before which the database said no slot is free (a
        #: window, a pause or a day: none frees sooner), and why
        self._not_before: dict[str, tuple[float, str]] = {}
        #: rows whose answer has arrived, with how long each request took
        self._finished: list[tuple[int, float]] = []
        self._finished_lock = threading.Lock()
        self._finished_ready = threading.Condition(self._finished_lock)
        self._finisher: threading.Thread | None = None

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        if self._engine is None:
            with self.store.write_transaction() as conn:
                yield conn
        else:
            with self._engine.begin() as conn:
                yield conn

    def close(self) -> None:
        """Mark what is still unmarked finished and close the governor's own pool."""
        if self._engine is None:
            return
        with self._finished_lock:  # what the background thread has not marked yet
            rows, self._finished = self._finished, []
        if rows:
            try:
                with self._autocommit.connect() as conn:
                    _mark_finished(conn, rows)
            except sa.exc.DBAPIError:
                pass
        self._engine.dispose()

    # --- the interface the runtime uses -------------------------------------------------------

    def slot(self, key: str, limits: Limits | None, max_wait: float = 30.0) -> _SharedSlot:
        return _SharedSlot(self, key, limits, max_wait)

    def pause(self, key: str, seconds: float, reason: str = "retry-after") -> None:
        """Nobody (in any process) starts a request on ``key`` for ``seconds``."""
        if seconds <= 0:
            return
        with self._write() as conn:
            now = self._now(conn, key)
            until = now + seconds
            if conn.execute(governor_pauses.update().where(governor_pauses.c.key == key)
                            .values(until=sa.func.max(governor_pauses.c.until, until)
                                    if not self._postgres else sa.func.greatest(governor_pauses.c.until, until))
                            ).rowcount == 0:
                conn.execute(governor_pauses.insert().values(key=key, until=until))

    def narrow(self, key: str, limits: Limits | None, remaining: Remaining) -> None:
        """The vendor says only ``remaining`` are left of ``key``'s allowance: the requests it
        counts that no process here started are written as finished starts of holder
        ``"vendor"``, so every process counts them. Those of the window start now (they leave
        it a full window later: the vendor's own window may free them sooner, never later);
        the rest of the day's are dated just before the window, or at midnight UTC."""
        if limits is None or (remaining.window is None and (remaining.day is None or limits.daily is None)):
            return
        starts = governor_starts.c
        with self._write() as conn:
            now = self._now(conn, key)
            midnight = dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(
                hour=0, minute=0, second=0, microsecond=0).timestamp()
            in_window, today = conn.execute(sa.select(
                sa.select(sa.func.count()).where(starts.key == key,
                                                 starts.started_at > now - limits.per_seconds).scalar_subquery(),
                sa.select(sa.func.count()).where(starts.key == key,
                                                 starts.started_at >= midnight).scalar_subquery())).one()
            unseen = 0
            if remaining.window is not None:
                unseen = max(0, min(limits.requests - remaining.window - in_window, limits.requests))
            earlier = 0
            if remaining.day is not None and limits.daily is not None:
                earlier = max(0, limits.daily - remaining.day - today - unseen)
            rows = ([{"key": key, "started_at": now, "finished_at": now, "holder": "vendor"}] * unseen
                    + [{"key": key, "started_at": max(midnight, now - limits.per_seconds),
                        "finished_at": now, "holder": "vendor"}] * earlier)
            if rows:
                conn.execute(governor_starts.insert(), rows)

    # --- one attempt --------------------------------------------------------------------------

    def _time(self) -> float:
        """This process's Unix time (the injected clock's, if any)."""
        return self._clock() if self._clock is not None else time.time()

    def _monotonic(self) -> float:
        """The clock ``max_wait`` is measured on."""
        return self._clock() if self._clock is not None else time.monotonic()

    def _now(self, conn: sa.Connection, key: str) -> float:
        """Lock ``key`` for this transaction and read the time everybody agrees on (one
        statement on PostgreSQL)."""
        if self._postgres:
            now = float(conn.execute(sa.text("SELECT extract(epoch from clock_timestamp()) "
                                             "FROM (SELECT pg_advisory_xact_lock(:id)) AS locked"),
                                     {"id": _lock_id(key)}).scalar_one())
            return self._clock() if self._clock is not None else now
        # SQLite: a write first, so another process's attempt waits for this transaction
        conn.execute(governor_pauses.update().where(governor_pauses.c.key == key)
                     .values(until=governor_pauses.c.until))
        return self._time()

    def _try(self, key: str, limits: Limits | None) -> tuple[int | None, str, float]:
        """Take a slot: ``(row id, "", 0)``, or ``(None, reason, seconds to wait)``.

        PostgreSQL: one call of ``ledgerlink_take_slot``; SQLite: the same steps here."""
        with self._count_lock:
            local = self._key_locks.setdefault(key, threading.Lock())
        with local:
            before, why = self._not_before.get(key, (0.0, ""))
            known = before - self._monotonic()
            if known > 0:  # another thread of this process asked: no slot before then
                return None, why, known
            asked = self._monotonic()
            taken = self._try_postgres(key, limits) if self._postgres else self._try_locked(key, limits)
            slot_id, reason, wait = taken
            if slot_id is None and reason in _PREDICTABLE:
                self._not_before[key] = (asked + wait, reason)
            return taken

    def _try_postgres(self, key: str, limits: Limits | None) -> tuple[int | None, str, float]:
        """One round trip: ``ledgerlink_take_slot`` (migrations 0006, 0007) in its own transaction."""
        with self._autocommit.connect() as conn:
            row = conn.execute(_TAKE, {
                "key": key, "lock": _lock_id(key), "per": limits.per_seconds if limits else 0.0,
                "budget": limits.budget if limits else None,
                "concurrent": limits.concurrent if limits else None,
                "daily": limits.daily if limits else None, "stale": STALE_SECONDS,
                "holder": self.holder,
                # NULL: the database server's clock
                "now": self._clock() if self._clock is not None else None}).one()
        slot_id, reason, wait = row
        if slot_id is not None:
            self._sweep(key, limits)
        return slot_id, reason or "", float(wait or 0.0)

    def _sweep(self, key: str, limits: Limits | None) -> None:
        """Now and then, forget starts too old to count for anything."""
        with self._count_lock:
            self._taken += 1
            if self._taken % 200:
                return
        keep = max(limits.per_seconds if limits else 0.0, STALE_SECONDS) * 2
        if limits is not None and limits.daily is not None:
            keep = max(keep, 2 * 86400.0)
        with self._write() as conn:
            conn.execute(governor_starts.delete().where(governor_starts.c.key == key,
                                                        governor_starts.c.started_at < self._time() - keep))

    def _try_locked(self, key: str, limits: Limits | None) -> tuple[int | None, str, float]:
        starts = governor_starts.c
        with self._write() as conn:
            now = self._now(conn, key)
            zero = sa.literal(0)
            midnight = dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(
                hour=0, minute=0, second=0, microsecond=0).timestamp()

            def count(*where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
                return sa.select(sa.func.count()).where(starts.key == key, *where).scalar_subquery()

            paused, in_window, running, today = conn.execute(sa.select(
                sa.select(governor_pauses.c.until).where(governor_pauses.c.key == key).scalar_subquery(),
                count(starts.started_at > now - limits.per_seconds) if limits else zero,
                count(starts.finished_at.is_(None), starts.started_at > now - STALE_SECONDS)
                if limits and limits.concurrent is not None else zero,
                count(starts.started_at >= midnight) if limits and limits.daily is not None else zero)).one()
            if paused is not None and paused > now:
                return None, "paused", paused - now
            if limits is not None:
                if in_window >= limits.budget:
                    # the start that must leave the window before one more fits
                    oldest = conn.execute(
                        sa.select(starts.started_at).where(starts.key == key,
                                                           starts.started_at > now - limits.per_seconds)
                        .order_by(starts.started_at).offset(in_window - limits.budget).limit(1)).scalar_one()
                    return None, "window", max(0.001, oldest + limits.per_seconds - now)
                if limits.concurrent is not None and running >= limits.concurrent:
                    return None, "concurrent", POLL_SECONDS
                if limits.daily is not None and today >= limits.daily:
                    return None, "daily", midnight + 86400.0 - now
            row_id = conn.execute(governor_starts.insert().values(key=key, started_at=now, holder=self.holder)
                                  .returning(governor_starts.c.id)).scalar_one()
        self._sweep(key, limits)
        return row_id, "", 0.0

    def _finish(self, row_id: int, took: float) -> None:
        """The request's answer arrived, ``took`` seconds after its slot was asked for: from
        now on it counts in the window from its answer. On PostgreSQL the row is marked by a
        background thread, several at a time, off the worker's path; until then it still
        counts as in progress, which only ever errs on the safe side."""
        if self._autocommit is None or self._clock is not None:
            with self._write() as conn:
                moved = governor_starts.c.started_at + took
                conn.execute(governor_starts.update().where(governor_starts.c.id == row_id,
                                                            governor_starts.c.finished_at.is_(None))
                             .values(started_at=moved, finished_at=moved))
            return
        with self._finished_lock:
            self._finished.append((row_id, took))
            if self._finisher is None or not self._finisher.is_alive():
                self._finisher = threading.Thread(target=self._finish_rows, name="ledgerlink-governor-finish",
                                                  daemon=True)
                self._finisher.start()
            self._finished_ready.notify()

    def _finish_rows(self) -> None:
        while True:
            with self._finished_lock:
                while not self._finished:
                    self._finished_ready.wait()
                rows, self._finished = self._finished, []
            try:
                with self._autocommit.connect() as conn:
                    _mark_finished(conn, rows)
            except sa.exc.DBAPIError:
                # the database is away: those rows stop counting after STALE_SECONDS anyway
                time.sleep(0.5)

    def stats(self, key: str) -> dict[str, float | int | str | None]:
        """Starts in the last minute and unfinished starts of ``key`` (all processes)."""
        with (self._engine or self.store.engine).connect() as conn:
            now = self._time()
            starts = governor_starts.c
            return {"started_last_minute": conn.execute(sa.select(sa.func.count()).where(
                        starts.key == key, starts.started_at > now - 60)).scalar_one(),
                    "in_progress": conn.execute(sa.select(sa.func.count()).where(
                        starts.key == key, starts.finished_at.is_(None),
                        starts.started_at > now - STALE_SECONDS)).scalar_one()}


class _SharedSlot:
    """Returned by :meth:`SharedGovernor.slot`; use it once in a ``with`` statement."""

    def __init__(self, governor: SharedGovernor, key: str, limits: Limits | None, max_wait: float) -> None:
        self.governor = governor
        self.key = key
        self.limits = limits
        self.max_wait = max_wait
        self.row_id: int | None = None
        self.asked = 0.0

    def __enter__(self) -> _SharedSlot:
        governor = self.governor
        deadline = governor._monotonic() + self.max_wait
        while True:
            asked = governor._monotonic()  # before the row's start is stamped: errs late
            row_id, reason, wait = governor._try(self.key, self.limits)
            if row_id is not None:
                self.row_id, self.asked = row_id, asked
                return self
            left = deadline - governor._monotonic()
            if wait > left:
                until = governor._monotonic() + wait
                raise Throttled(f"no {reason} slot of {self.key!r} within {self.max_wait:g} s "
                                f"(shared by every process on this database)",
                                key=self.key, reason=reason, until=until, delay=wait,
                                retry_at=governor._time() + wait, limits=self.limits)
            governor._sleep(wait)

    def __exit__(self, *exc: object) -> None:
        if self.row_id is not None:
            self.governor._finish(self.row_id, self.governor._monotonic() - self.asked)
            self.row_id = None
