"""The governor's rule for one key, as plain state: when a start is allowed, and why not.

:class:`Bucket` is what :class:`~ledgerlink.io.governor.local.LocalGovernor` keeps per key
(see its module docstring for the algorithm), handed ``now`` (a monotonic clock) and ``wall``
(Unix time, for the UTC day) explicitly, so it is unit-tested with a fake clock. It also
takes what a vendor says remains of its allowance (:meth:`Bucket.narrow`), so requests sent
by someone else on the same tenant count here too.
"""

from __future__ import annotations

import math
from collections import deque

from ledgerlink.contract.limits import Limits, Remaining

__all__ = ["DAY", "Bucket"]

DAY = 86400.0


class Bucket:
    """The limits of one key as plain state; every method is told ``now`` (and ``wall``).

    ``now`` is a monotonic clock in seconds; ``wall`` is Unix time, used only for the UTC day.
    ``limits=None`` means the vendor publishes none: only a pause applies, nothing is recorded.
    No locking here: the caller serialises (a lock in-process, a row lock on a database).
    """

    __slots__ = ("starts", "in_flight", "day", "day_count", "paused_until", "pause_reason")

    def __init__(self) -> None:
        self.starts: deque[float] = deque()
        self.in_flight = 0
        self.day = -1
        self.day_count = 0
        self.paused_until = -math.inf
        self.pause_reason = ""

    def trim(self, now: float, limits: Limits | None) -> None:
        """Forget starts that have left the window ``(now - per_seconds, now]``."""
        starts = self.starts
        if limits is None:
            starts.clear()
            return
        per = limits.per_seconds
        # the same expression as the window's "free at" time below, so they agree exactly
        while starts and starts[0] + per <= now:
            starts.popleft()

    def count_today(self, wall: float) -> int:
        return self.day_count if int(wall // DAY) <= self.day else 0

    def blocked(self, now: float, wall: float, limits: Limits | None,
                ahead: int = 0) -> tuple[str, float] | None:
        """Why a start is not allowed now, and the earliest clock time it could be.

        ``None`` when a start is allowed now. ``ahead`` counts starts that must come first
        (earlier waiters, assumed to take their slots): the answer is then a lower bound from
        the predictable limits only (window, day, pause); the concurrency limit is checked
        only for ``ahead == 0``. Of several limits the one that frees last is named;
        ``"concurrent"`` (time unknown, so ``now``) only when it is the sole reason.
        """
        self.trim(now, limits)
        found: tuple[str, float] | None = None

        def later(reason: str, at: float) -> None:
            nonlocal found
            if found is None or at > found[1]:
                found = (reason, at)

        if self.paused_until > now:
            later("paused", self.paused_until)
        if limits is not None:
            if limits.daily is not None and self.count_today(wall) + ahead >= limits.daily:
                later("daily", now + ((int(wall // DAY) + 1) * DAY - wall))
            index = len(self.starts) + ahead - limits.budget
            if index >= 0:
                # the start at ``index`` must leave the window first; if it has not happened
                # yet (earlier waiters' starts), a full window from now is a lower bound
                at = (self.starts[index] + limits.per_seconds if index < len(self.starts)
                      else now + limits.per_seconds)
                later("window", at)
            if found is None and ahead == 0 and limits.concurrent is not None \
                    and self.in_flight >= limits.concurrent:
                found = ("concurrent", now)
        return found

    def take(self, now: float, wall: float, limits: Limits | None) -> None:
        """Record a start at ``now``; call only when :meth:`blocked` said ``None``."""
        self.in_flight += 1
        if limits is None:
            return
        self.starts.append(now)
        day = int(wall // DAY)
        if day > self.day:  # a wall clock stepping back never resets the count
            self.day, self.day_count = day, 0
        self.day_count += 1

    def release(self) -> None:
        if self.in_flight <= 0:
            raise RuntimeError("governor slot released more often than taken")
        self.in_flight -= 1

    def narrow(self, now: float, wall: float, limits: Limits | None, remaining: Remaining) -> None:
        """The vendor says only ``remaining`` are left: what it counts beyond our own starts
        (requests someone else sent on the tenant) is counted here too.

        The window gets a start at ``now`` for each request the vendor counts in its window
        and we do not (they leave a full ``per_seconds`` later: we cannot know when the
        vendor's own window frees them, so we wait the longest it can be) and in the day; the
        day's count becomes at least what the vendor says is used of ``daily``. Nothing is ever given back: an
        answer saying more remains than we think is an answer that overtook a later one.
        """
        if limits is None:
            return
        self.trim(now, limits)
        unseen = 0
        if remaining.window is not None:
            unseen = max(0, min(limits.requests - remaining.window - len(self.starts), limits.requests))
            self.starts.extend([now] * unseen)
        day = int(wall // DAY)
        if limits.daily is None or day < self.day:
            return
        if day > self.day:
            self.day, self.day_count = day, 0
        self.day_count += unseen  # sent by someone else today, too
        if remaining.day is not None:
            self.day_count = max(self.day_count, limits.daily - remaining.day)

    def pause(self, now: float, seconds: float, reason: str) -> float:
        """No start before ``now + seconds`` (a longer pause already set wins)."""
        until = now + seconds
        if until > self.paused_until:
            self.paused_until, self.pause_reason = until, reason
        return self.paused_until

    def idle(self, now: float, wall: float, limits: Limits | None) -> bool:
        """Nothing worth remembering: forgetting this bucket changes no future answer."""
        self.trim(now, limits)
        daily = limits is not None and limits.daily is not None
        return (self.in_flight == 0 and not self.starts and self.paused_until <= now
                and not (daily and self.count_today(wall)))
