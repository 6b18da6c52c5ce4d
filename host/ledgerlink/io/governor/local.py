"""The in-process governor: sliding windows in memory, for one process (or SQLite).

:meth:`LocalGovernor.slot` (see :class:`ledgerlink.io.governor.Governor`) is held around one
HTTP attempt. Entering waits until the key has **both** a free concurrency slot **and** room
in its sliding window (and, with a daily cap, room in the UTC day), records the start, and
proceeds; leaving frees the concurrency slot (the start stays in the window). After
:meth:`LocalGovernor.pause` no new slot is given for that key until the pause ends. When a
slot cannot be had within ``max_wait`` the caller gets :class:`~ledgerlink.errors.Throttled`
-- at once when the governor can already tell (a pause, a full day, a window that frees too
late), else when ``max_wait`` runs out.

The algorithm
-------------
For each key: a deque of start times within the last ``per_seconds`` (trimmed as time
passes), the number in flight, the day's count and a pause deadline. A start is allowed at
``now`` when nothing is paused, ``in_flight < concurrent``, the day's count ``< daily``, and
fewer than ``budget = floor(requests * headroom)`` starts lie in ``(now - per_seconds, now]``
-- so any ``per_seconds``-long interval holds at most ``budget`` starts, which keeps every
*fixed* window (a vendor counting per calendar minute) inside the limit too, whatever its
alignment. When a start is not allowed, the binding constraint says when it can be: the
oldest start in the window plus ``per_seconds``, the next UTC midnight, the end of the
pause; only a concurrency wait is unpredictable (it ends when a holder leaves).

That rule lives in :class:`~ledgerlink.io.governor.bucket.Bucket`, a small pure class that is handed ``now`` (and the
wall-clock time, for the UTC day) explicitly: it is unit-tested with a fake clock, and it is
what gets re-implemented on the database when several processes share one tenant (a row per
key holding the counters and a table of recent start times, checked and appended under a
row lock or an advisory lock -- the same check-then-record: :mod:`.shared`). This governor
is *in-process*: N worker processes on one tenant each keep their own count, so either run
the tenant's work in one process or give each process ``1/N`` of the limits.

What is guaranteed
------------------
- Thread safety: one lock per governor; waiting uses a ``threading.Condition`` per key (no
  busy-waiting). Holders leaving, pauses and departures notify that key's waiters only.
- Limits: at no instant more than ``concurrent`` slots of a key are held; no
  ``per_seconds`` interval contains more than ``budget`` starts; no UTC day more than
  ``daily``. Keys are independent.
- Order: per key, waiters are served first come, first served (a ticket queue): a waiter
  takes a slot only when every earlier waiter of that key has taken one or given up
  (``Throttled``), so a late arrival never overtakes and nobody starves while others keep
  arriving. There is no ordering across keys.
- Memory: a key's window deque holds at most ``requests`` timestamps and is trimmed as time
  passes; keys idle for a window are swept (an idle key with a daily cap keeps two integers
  until its day ends).

Testing: ``LocalGovernor(clock=fake, sleep=fake.sleep)``. The injected ``sleep`` is called
with the lock released and may return early; the governor rechecks after every return (at
most every ``_POLL_SECONDS`` for waits no clock can predict). Inject a clock with its sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ledgerlink.contract.limits import Limits, Remaining, is_number
from ledgerlink.errors import Throttled
from ledgerlink.io.governor.bucket import Bucket as _Bucket

__all__ = ["LocalGovernor"]

#: with an injected ``sleep`` (tests), a wait nobody can predict (a concurrency slot, the
#: waiters ahead) is rechecked at least this often; with the real condition it is notified
_POLL_SECONDS = 0.05
#: idle keys are swept at most this often (in clock seconds)
_SWEEP_SECONDS = 60.0


# --- the governor ---------------------------------------------------------------------------

class _Key:
    """A bucket plus what one process needs to wait on it fairly."""

    __slots__ = ("bucket", "limits", "cond", "queue", "next_ticket", "waits",
                 "total_wait", "throttled")

    def __init__(self, lock: threading.Lock) -> None:
        self.bucket = _Bucket()
        self.limits: Limits | None = None
        self.cond = threading.Condition(lock)
        self.queue: deque[int] = deque()
        self.next_ticket = 0
        self.waits = 0
        self.total_wait = 0.0
        self.throttled = 0


class LocalGovernor:
    """Keeps every key (one per connection/tenant) inside its :class:`Limits`. Thread-safe.

    ``clock`` is monotonic seconds (``until`` values are on it), ``wall_clock`` Unix time
    (the UTC day, ``retry_at``), ``sleep`` replaces waiting on the condition (tests only: see
    the module docstring).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], object] | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._sleep = sleep
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        self._last_sweep = clock()

    # public ------------------------------------------------------------------------------

    def slot(self, key: str, limits: Limits | None, max_wait: float = 30.0) -> _Slot:
        """A context manager: one request's slot for ``key`` under ``limits``.

        Entering waits up to ``max_wait`` seconds (0: only a slot free now) and returns the
        slot, whose ``waited`` says how long it waited; otherwise raises :class:`Throttled`
        having taken nothing. ``limits=None`` (a vendor publishing none) honours pauses only.
        The latest ``limits`` given for a key are the ones applied.
        """
        if not isinstance(key, str) or not key:
            raise ValueError(f"governor key must be a non-empty string naming the connection "
                             f"(e.g. 'books:main'), not {key!r}")
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"governor limits must be a ledgerlink.contract.Limits (a "
                            f"connector's 'limits') or None, not {type(limits).__name__}")
        if not is_number(max_wait) or math.isnan(max_wait) or max_wait < 0:
            raise ValueError(f"max_wait must be a number of seconds of at least 0 (0: only a "
                             f"slot free now), not {max_wait!r}")
        return _Slot(self, key, limits, float(max_wait))

    def pause(self, key: str, seconds: float, reason: str = "retry-after") -> None:
        """The vendor said wait: no new slot for ``key`` during the next ``seconds``.

        For ``Retry-After`` and for a 429 or throttle fault that got through anyway. Slots
        already held are not affected. A longer pause already in force is kept.
        """
        if not isinstance(key, str) or not key:
            raise ValueError(f"governor key must be a non-empty string, not {key!r}")
        if not is_number(seconds) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"pause seconds must be a finite number of at least 0 (e.g. the "
                             f"vendor's Retry-After), not {seconds!r}")
        with self._lock:
            state = self._state(key)
            state.bucket.pause(self._clock(), float(seconds), str(reason))
            state.cond.notify_all()  # waiters that cannot outlast the pause give up now

    def narrow(self, key: str, limits: Limits | None, remaining: Remaining) -> None:
        """The vendor's answer says only ``remaining`` are left of ``key``'s allowance: count
        what it counts beyond this process's starts (see :meth:`.bucket.Bucket.narrow`)."""
        with self._lock:
            state = self._state(key)
            state.bucket.narrow(self._clock(), self._wall(), limits, remaining)

    def stats(self, key: str) -> dict[str, float | int | str | None]:
        """Counters for metrics: ``in_flight``, ``starts_in_window``, ``paused_until`` (clock
        time or None), ``pause_reason``, ``day_count``, ``waiting``, ``waits`` (slots that had
        to wait), ``total_wait_seconds``, ``throttled``."""
        with self._lock:
            now, wall = self._clock(), self._wall()
            state = self._keys.get(key)
            if state is None:
                return {"in_flight": 0, "starts_in_window": 0, "paused_until": None,
                        "pause_reason": None, "day_count": 0, "waiting": 0, "waits": 0,
                        "total_wait_seconds": 0.0, "throttled": 0}
            bucket = state.bucket
            bucket.trim(now, state.limits)
            paused = bucket.paused_until > now
            return {"in_flight": bucket.in_flight, "starts_in_window": len(bucket.starts),
                    "paused_until": bucket.paused_until if paused else None,
                    "pause_reason": bucket.pause_reason if paused else None,
                    "day_count": bucket.count_today(wall), "waiting": len(state.queue),
                    "waits": state.waits, "total_wait_seconds": state.total_wait,
                    "throttled": state.throttled}

    def keys(self) -> list[str]:
        """The keys currently remembered (idle ones are swept)."""
        with self._lock:
            return list(self._keys)

    def close(self) -> None:
        """Nothing to give back: the counts live in this object."""

    # internals (called with or taking self._lock) -------------------------------------------

    def _state(self, key: str) -> _Key:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _Key(self._lock)
        return state

    def _sweep(self, now: float, wall: float) -> None:
        if now - self._last_sweep < _SWEEP_SECONDS:
            return
        self._last_sweep = now
        for key in [k for k, s in self._keys.items()
                    if not s.queue and s.bucket.idle(now, wall, s.limits)]:
            del self._keys[key]

    def _wait(self, state: _Key, timeout: float, predictable: bool) -> None:
        if self._sleep is None:
            state.cond.wait(None if timeout >= threading.TIMEOUT_MAX else timeout)
            return
        if not predictable:
            timeout = min(timeout, _POLL_SECONDS)
        self._lock.release()
        try:
            self._sleep(timeout)
        finally:
            self._lock.acquire()

    def _acquire(self, key: str, limits: Limits | None,
                 max_wait: float) -> tuple[_Key, float, float]:
        with self._lock:
            now = self._clock()
            self._sweep(now, self._wall())
            state = self._state(key)
            state.limits = limits
            bucket = state.bucket
            arrived, deadline = now, now + max_wait
            ticket = state.next_ticket
            state.next_ticket += 1
            state.queue.append(ticket)
            try:
                while True:
                    now, wall = self._clock(), self._wall()
                    ahead = state.queue.index(ticket)
                    why = bucket.blocked(now, wall, limits, ahead)
                    if why is None and ahead == 0:
                        bucket.take(now, wall, limits)
                        waited = max(0.0, now - arrived)
                        if waited > 0:
                            state.waits += 1
                            state.total_wait += waited
                        return state, waited, now
                    if why is None:  # only earlier waiters are in the way
                        why = bucket.blocked(now, wall, limits) or ("concurrent", now)
                    reason, at = why
                    if at > deadline or now >= deadline:
                        state.throttled += 1
                        raise self._throttled(key, limits, reason, max(at, now), now, wall,
                                              max_wait)
                    predictable = ahead == 0 and reason != "concurrent"
                    until = min(at, deadline) if predictable else deadline
                    self._wait(state, max(until - now, 0.0), predictable)
            finally:
                state.queue.remove(ticket)
                state.cond.notify_all()  # the next in line may go now

    def _release(self, state: _Key) -> None:
        with self._lock:
            state.bucket.release()
            state.cond.notify_all()

    def _throttled(self, key: str, limits: Limits | None, reason: str, until: float,
                   now: float, wall: float, max_wait: float) -> Throttled:
        delay = until - now
        why = {
            "window": (f"{limits.budget:,} of {limits.requests:,} requests per "
                       f"{limits.per_seconds:g} s already started" if limits else "window full"),
            "concurrent": (f"all {limits.concurrent} concurrent slots held"
                           if limits and limits.concurrent else "concurrent slots held"),
            "daily": (f"{limits.daily:,} requests already sent this UTC day"
                      if limits and limits.daily else "daily limit reached"),
            "paused": f"paused by the vendor ({self._keys[key].bucket.pause_reason})",
        }[reason]
        when = ("try again soon" if reason == "concurrent"
                else f"a slot is expected in {delay:.1f} s; reschedule the run for then")
        return Throttled(f"{key}: no request slot within {max_wait:g} s ({why}); {when}",
                         key=key, reason=reason, until=until, delay=delay,
                         retry_at=wall + delay, limits=limits)


class _Slot:
    """Returned by :meth:`LocalGovernor.slot`; use it once in a ``with`` statement."""

    __slots__ = ("_governor", "key", "limits", "max_wait", "waited", "started", "_state",
                 "_used")

    def __init__(self, governor: LocalGovernor, key: str, limits: Limits | None,
                 max_wait: float) -> None:
        self._governor = governor
        self.key = key
        self.limits = limits
        self.max_wait = max_wait
        #: seconds spent waiting for the slot (set on entering)
        self.waited = 0.0
        #: the clock time recorded as this request's start (set on entering)
        self.started: float | None = None
        self._state: _Key | None = None
        self._used = False

    def __enter__(self) -> _Slot:
        if self._used:
            raise RuntimeError(f"governor slot for {self.key!r} entered twice; "
                               f"call governor.slot() for each request")
        self._used = True
        self._state, self.waited, self.started = self._governor._acquire(
            self.key, self.limits, self.max_wait)
        return self

    def __exit__(self, *exc: object) -> None:
        state, self._state = self._state, None
        if state is not None:
            self._governor._release(state)

    def __repr__(self) -> str:
        return f"<governor slot {self.key!r} waited={self.waited:.3f}s>"
