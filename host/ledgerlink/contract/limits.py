"""A vendor's published rate limits, as a connector declares them (``Connector.limits``).

The host's governor (:mod:`ledgerlink.io.governor`) keeps every connection inside them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Limits:
    """A vendor's published limits for one tenant (one connection).

    - ``requests`` per ``per_seconds``: a sliding window (``Limits(500, 60.0)`` = 500 per minute);
    - ``concurrent``: requests in progress at once (``None``: no limit);
    - ``daily``: requests per UTC calendar day (``None``: no limit);
    - ``headroom``: the fraction of ``requests`` actually used (see :attr:`budget`), a safety
      margin because our window is measured on *our* clock when we send, while the vendor
      counts on *its* clock when requests arrive: network jitter can bring two requests we
      sent ``per_seconds`` apart closer together, and the vendor's windows are not aligned
      with ours. ``0.98`` gives up 2 % of the throughput for that; ``1.0`` trusts timing exactly.
    """

    requests: int
    per_seconds: float
    concurrent: int | None = None
    daily: int | None = None
    headroom: float = 0.98

    def __post_init__(self) -> None:
        if not is_whole(self.requests) or self.requests < 1:
            raise ValueError(
                f"Limits.requests must be a whole number of requests of at least 1, not "
                f"{self.requests!r}; write the vendor's published limit, e.g. Limits(500, 60.0) "
                f"for 500 requests per minute")
        if not is_number(self.per_seconds) or not math.isfinite(self.per_seconds) \
                or self.per_seconds <= 0:
            raise ValueError(
                f"Limits.per_seconds must be a positive number of seconds (the window the "
                f"vendor counts requests in: 60.0 for 'per minute'), not {self.per_seconds!r}")
        if self.concurrent is not None and (not is_whole(self.concurrent) or self.concurrent < 1):
            raise ValueError(
                f"Limits.concurrent must be a whole number of at least 1 (requests in progress at "
                f"once), or None when the vendor publishes no such limit; not {self.concurrent!r}")
        if self.daily is not None and (not is_whole(self.daily) or self.daily < 1):
            raise ValueError(
                f"Limits.daily must be a whole number of at least 1 (requests per UTC day), or "
                f"None when the vendor publishes no daily limit; not {self.daily!r}")
        if not is_number(self.headroom) or not (0 < self.headroom <= 1):
            raise ValueError(
                f"Limits.headroom must be more than 0 and at most 1 (the fraction of 'requests' "
                f"actually used; 0.98 keeps a 2 % margin), not {self.headroom!r}")

    @property
    def budget(self) -> int:
        """Starts allowed per window: ``floor(requests * headroom)``, never below 1."""
        # the epsilon keeps 0.3 * 10 (2.9999999999999996) at 3
        return max(1, math.floor(self.requests * self.headroom + 1e-9))

    def describe(self) -> str:
        """One line for logs: ``500 requests per 60 s (490 used, headroom 0.98), 10 at once``."""
        text = (f"{self.requests:,} requests per {self.per_seconds:g} s "
                f"({self.budget:,} used, headroom {self.headroom:g})")
        if self.concurrent is not None:
            text += f", {self.concurrent:,} at once"
        if self.daily is not None:
            text += f", {self.daily:,} per UTC day"
        return text


@dataclass(frozen=True)
class Remaining:
    """What a vendor's answer says is left of the tenant's allowance (``Connector.read_remaining``
    reads it from the answer's headers, e.g. Xero's ``X-MinLimit-Remaining``).

    - ``window``: requests the vendor still admits in its current ``per_seconds`` window;
    - ``day``: requests it still admits this day.

    ``None`` when the answer does not say. The governor narrows its own counts to these
    (:meth:`ledgerlink.io.governor.Governor.narrow`): requests sent on the same tenant by
    someone it does not see (another installation, a script) are then respected.
    """

    window: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        for name in ("window", "day"):
            value = getattr(self, name)
            if value is not None and (not is_whole(value) or value < 0):
                raise ValueError(f"Remaining.{name} must be a whole number of requests of at least 0, "
                                 f"or None when the vendor's answer does not say; not {value!r}")
