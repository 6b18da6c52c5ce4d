"""Waitress's event loop, paced for many open connections (see :func:`coalescing_loop`)."""

from __future__ import annotations

import time
import types

from waitress import wasyncore

#: the event loop pauses this long per open connection after each turn (at most
#: ``COALESCE_MAX``), once more than ``COALESCE_FROM`` are open: see :func:`coalescing_loop`
COALESCE_PER_CONNECTION = 8e-6
COALESCE_FROM = 32
COALESCE_MAX = 0.01


def coalescing_loop(timeout: float = 30.0, use_poll: bool = True, map: dict | None = None,
                    count: int | None = None) -> None:
    """Waitress's event loop, paced for many connections.

    Each turn of waitress's loop asks every open connection whether it wants to read or
    write before it polls, so a turn costs time in proportion to the connections open
    (about 1 ms for 256), holding the interpreter lock. Under a burst a turn serves one or
    two events, and the loop spent most of the process's CPU walking connections (ack p99
    of 2 s at 256 senders). After a turn with more than :data:`COALESCE_FROM` connections
    open, the loop pauses a few microseconds per connection (at most :data:`COALESCE_MAX`):
    the events of that moment gather, the next turn serves them together, and the request
    threads get the lock meanwhile. A request then waits at most one pause longer.
    """
    if map is None:  # pragma: no cover - waitress always passes its map
        map = wasyncore.socket_map
    turns = 0
    while map and (count is None or turns < count):
        wasyncore.poll2(timeout, map)
        turns += 1
        open_now = len(map)
        if open_now > COALESCE_FROM:
            time.sleep(min(COALESCE_MAX, open_now * COALESCE_PER_CONNECTION))


#: what waitress's server calls for its event loop (it reads ``dispatcher`` there too)
ASYNCORE = types.SimpleNamespace(dispatcher=wasyncore.dispatcher, loop=coalescing_loop)
