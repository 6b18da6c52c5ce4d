"""A claimed run as a worker performs it, and the lease it holds on it.

A worker claims a run under a lease of ``lease_seconds``; while it holds the lease no other
worker takes the run. Before each step :meth:`LiveRun.keep_lease` makes sure the lease lasts
long enough for the step: at least half a lease more (with the default lease of 60 s, the
30 s an outbound request may wait for its answer). Only when less is left is the lease
renewed, which costs an UPDATE and a commit of its own; a renewal that finds the run no
longer this worker's (its lease ran out and another worker took it over) answers False, and
the worker stops there. Most runs finish well within half a lease, so they renew never.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ledgerlink.io.connections import Connections, Counters
from ledgerlink.store import ClaimedRun, Store


@dataclass
class LiveRun:
    """A run claimed by ``worker`` under a lease, and the parts of the process it uses."""

    run: ClaimedRun
    worker: str
    store: Store
    connections: Connections
    metrics: Counters
    lease_seconds: float
    may_have_written: Callable[[str, str], bool] | None = None  # echo.MayHaveWritten; None: always look
    #: the clock the lease is read by (Unix seconds); the store compares leases in it too
    clock: Callable[[], float] = time.time
    #: when the lease ends as this worker last set it (claim or renewal); 0.0: not known,
    #: so it is renewed before every step
    lease_until: float = 0.0

    def __post_init__(self) -> None:
        if not self.lease_until:
            self.lease_until = self.run.lease_until

    def keep_lease(self) -> bool:
        """True when this worker holds the run's lease for at least half a lease more,
        renewing it only when less is left; False when the lease was lost (another worker
        took the run over and finishes it)."""
        now = self.clock()
        if self.lease_until - now >= self.lease_seconds / 2:
            return True
        if not self.store.renew(self.run.id, self.worker, self.lease_seconds, now=now):
            return False
        self.lease_until = now + self.lease_seconds
        return True
