"""What the connections page says of each connection: one word for its state, and how much
of its vendor's rate limit is left now.

:func:`state` folds what :func:`ledgerlink.web.connections.connection_rows` reports into the
four states a person acts on: ``ok``, ``needs_reauth`` (connect it again: its OAuth consent
or key was refused), ``not_connected`` (never connected), ``paused`` (runs or fetches wait on
it, or the vendor said to wait). :func:`headroom` reads the rate governor: the requests
started in the vendor's current window against the connection's limits, counted by this
process (the local governor) or by every process (the shared one, on PostgreSQL).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ledgerlink.errors import LedgerlinkError

if TYPE_CHECKING:
    from ledgerlink.engine.runtime import Runtime

#: every state :func:`state` gives
STATES = ("ok", "needs_reauth", "not_connected", "paused")
#: connection statuses that ask a person to connect again
_REAUTH = ("needs_reauth", "needs_new_key")


def state(row: Mapping[str, Any], limit: Mapping[str, Any] | None = None) -> str:
    """The state of a connection from its row (``status``, ``paused_runs``,
    ``paused_fetches``) and its :func:`headroom` (``paused``)."""
    if row.get("status") in _REAUTH:
        return "needs_reauth"
    if row.get("status") == "not_connected":
        return "not_connected"
    if row.get("paused_runs") or row.get("paused_fetches") or (limit or {}).get("paused"):
        return "paused"
    return "ok"


def headroom(rt: Runtime, name: str, now: float | None = None) -> dict[str, Any]:
    """How much of ``name``'s rate limit is left: ``limits`` (as the vendor publishes them,
    None when it publishes none), ``budget`` (starts allowed per window), ``used`` (started
    in the current window), ``remaining``, ``in_flight``, ``paused`` and ``pause_reason``
    (a Retry-After or 429 heeded), and ``counted_by`` (``this process`` or ``all processes``)."""
    try:
        connection = rt.connections.connection(name)
        limits = rt.config.limits(name, rt.connections.limits(name))
    except LedgerlinkError:  # a connection whose settings do not load: no limits to show
        return {"limits": None, "budget": None, "used": 0, "remaining": None, "in_flight": 0,
                "paused": False, "pause_reason": None, "counted_by": "this process"}
    key = f"{connection.connector}:{connection.name}"
    stats = rt.governor.stats(key)
    if "starts_in_window" in stats:  # the local governor counts this process's starts
        used, in_flight, counted = int(stats["starts_in_window"] or 0), int(stats["in_flight"] or 0), "this process"
        paused, reason = stats.get("paused_until") is not None, stats.get("pause_reason")
    else:  # the shared governor: every process's starts, from the database
        now = time.time() if now is None else now
        window = limits.per_seconds if limits is not None else 60.0
        used, in_flight, until = rt.store.governor_use(key, now - window)
        counted, paused = "all processes", until is not None and until > now
        reason = "the vendor said to wait" if paused else None
    budget = limits.budget if limits is not None else None
    return {"limits": None if limits is None else {"requests": limits.requests, "per_seconds": limits.per_seconds,
                                                   "concurrent": limits.concurrent, "daily": limits.daily,
                                                   "described": limits.describe()},
            "budget": budget, "used": used, "remaining": None if budget is None else max(0, budget - used),
            "in_flight": in_flight, "paused": paused, "pause_reason": reason, "counted_by": counted}
