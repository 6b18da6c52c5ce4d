"""Runs claimed for a pool of worker threads: one round trip to the database for many.

The threads of a :class:`~ledgerlink.engine.worker.WorkerPool` share one :class:`Claims`. A
thread that wants a run takes the next one already claimed; when none is left, it claims up
to ``limit`` due runs for the whole pool in one statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, one transaction under the write lock on SQLite) while the others wait for it,
rather than each polling the database alone. Every run is leased to the pool's ``owner``.

A run a thread is performing is never claimed again by the same pool, even when its lease ran
out meanwhile (a step that took longer than the lease): two threads of one pool would both
pass the lease's owner check. Another process may take it over; the thread then finds its
lease lost before its next step (:meth:`ledgerlink.engine.lease.LiveRun.keep_lease`).
"""

from __future__ import annotations

import threading
from collections import deque

from ledgerlink.store import ClaimedRun, Store


class Claims:
    """The runs claimed for one pool and not yet started, and those being performed."""

    def __init__(self, store: Store, owner: str, lease_seconds: float, limit: int) -> None:
        self.store = store
        #: the lease owner of every run claimed here
        self.owner = owner
        self.lease_seconds = lease_seconds
        #: how many due runs one claim takes at most
        self.limit = max(1, limit)
        self._lock = threading.Lock()
        self._ready: deque[ClaimedRun] = deque()
        self._in_hand: set[int] = set()

    def take(self) -> ClaimedRun | None:
        """The next run claimed for the pool, claiming up to ``limit`` more first when none
        is left; None when none is due. The caller performs it, then calls :meth:`done`.
        Raises what claiming raises (the database away); nothing is lost then."""
        with self._lock:
            if not self._ready:
                self._ready.extend(self.store.claim(self.owner, self.lease_seconds, self.limit,
                                                    exclude=self._in_hand))
            if not self._ready:
                return None
            run = self._ready.popleft()
            self._in_hand.add(run.id)
            return run

    def done(self, run: ClaimedRun) -> None:
        """``run`` is no longer being performed by this pool."""
        with self._lock:
            self._in_hand.discard(run.id)

    def left(self) -> list[ClaimedRun]:
        """Every run claimed and not started, taken out (to be handed back at a stop)."""
        with self._lock:
            rest = list(self._ready)
            self._ready.clear()
            return rest
