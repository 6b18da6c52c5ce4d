"""The rate governor: a request waits for a slot *before* it is sent, so a tenant's limits
are respected instead of discovered by HTTP 429.

Every connection to a vendor is one tenant with a string key (``"CONNECTOR:CONNECTION"``) and
the vendor's published :class:`~ledgerlink.contract.limits.Limits` (``Connector.limits``).
:meth:`Governor.slot` is a context manager held around one HTTP attempt (retries and
idempotent replays count against the vendor's limits too, so each attempt takes a slot)::

    with governor.slot("books:main", connector.limits, max_wait=30.0):
        response = client.send(request)

When the vendor answers "wait" anyway (``Retry-After``, a 429, a throttle fault) the caller
calls :meth:`Governor.pause`, and no new slot is given for that key until the pause ends.
When the vendor's answers say how much of the allowance is left (``Connector.read_remaining``)
the caller hands that to :meth:`Governor.narrow`, so calls made by someone else on the same
tenant count too.
When a slot cannot be had within ``max_wait`` the caller gets
:class:`~ledgerlink.errors.Throttled`, with ``until``/``retry_at``, so a worker reschedules
the run durably instead of holding a thread for hours.

Two implementations satisfy :class:`Governor`:

- :class:`ledgerlink.io.governor.local.LocalGovernor` counts in this process (sliding
  windows in memory): for one process, or SQLite;
- :class:`ledgerlink.io.governor.shared.SharedGovernor` counts in the database, so N
  processes on N machines share one window per tenant: chosen on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Protocol

from ledgerlink.contract.http import retry_after
from ledgerlink.contract.limits import Limits, Remaining

__all__ = ["REASONS", "Governor", "Slot", "heed"]

#: every ``Throttled.reason``: the limit that kept a request from starting
REASONS = ("window", "concurrent", "daily", "paused")


class Slot(Protocol):
    """One request's slot: entering waits for it (or raises ``Throttled``), leaving frees it."""

    def __enter__(self) -> Slot: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class Governor(Protocol):
    """What the runtime asks of a governor, whichever one counts."""

    def slot(self, key: str, limits: Limits | None, max_wait: float = 30.0) -> Slot:
        """A context manager: one request's slot for ``key`` under ``limits`` (``None``: the
        vendor publishes none, only pauses apply), waiting up to ``max_wait`` seconds."""
        ...

    def pause(self, key: str, seconds: float, reason: str = "retry-after") -> None:
        """The vendor said wait: no new slot for ``key`` during the next ``seconds``."""
        ...

    def narrow(self, key: str, limits: Limits | None, remaining: Remaining) -> None:
        """The vendor's answer says only ``remaining`` are left of ``key``'s allowance (its
        window, its day): requests it counts that this governor did not start (another
        installation on the same tenant) are counted as started, so no slot is given that
        the vendor would refuse."""
        ...

    def stats(self, key: str) -> dict[str, float | int | str | None]:
        """Counters of ``key`` for metrics (each implementation documents its own)."""
        ...

    def close(self) -> None:
        """Give back what the governor holds (connections, threads); idempotent."""
        ...


def heed(governor: Governor, key: str, limits: Limits | None, status: int, headers: Mapping[str, str],
         read_remaining: Callable[[Mapping[str, str]], Remaining | None] | None = None) -> bool:
    """What one answer of the vendor tells the governor: a 429 (or a 503 with
    ``Retry-After``) pauses ``key`` as long as the vendor said (a second if it did not);
    the allowance left, when the connector reads it from the headers, narrows the counts.
    True when the answer was a throttle."""
    if read_remaining is not None:
        remaining = read_remaining(headers)
        if remaining is not None:
            governor.narrow(key, limits, remaining)
    wait = retry_after(headers)
    if status == 429 or (status == 503 and wait):
        governor.pause(key, wait or 1.0)
        return True
    return False
