"""A simulated clock for the governors, and the schedule a perfect governor would keep.

Governor tests never time anything: the governors take ``clock`` and ``sleep``, time passes
only when they sleep, and what they did is compared with :func:`earliest_starts`, the
start times a governor that uses every slot and breaks no limit must give.
"""

from __future__ import annotations

import heapq
import itertools
import math
from bisect import bisect_left
from collections.abc import Callable, Sequence

from ledgerlink.contract.limits import Limits

#: a wall-clock origin: 2026-05-01 00:00:00 UTC
MIDNIGHT = 1777593600.0
DAY = 86400.0


class FakeClock:
    """Time that passes only in ``sleep``; the clock, the sleep and the wall clock in one.

    ``at(when, fn)`` schedules ``fn`` (e.g. a slot being released by its holder); ``sleep``
    runs the first event due within its span and returns then (an early return, as a
    condition wait may), else advances the whole span.
    """

    def __init__(self, start: float = 1000.0, wall: float = MIDNIGHT + 3600.0) -> None:
        self.now = start
        self._wall_offset = wall - start
        self._events: list = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self._wall_offset

    def at(self, when: float, fn: Callable[[], object]) -> None:
        heapq.heappush(self._events, (when, next(self._seq), fn))

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        target = self.now + seconds
        if self._events and self._events[0][0] <= target:
            when, _, fn = heapq.heappop(self._events)
            self.now = max(self.now, when)
            fn()
            return
        self.now = target

    def run_all(self) -> None:
        while self._events:
            when, _, fn = heapq.heappop(self._events)
            self.now = max(self.now, when)
            fn()


def window_counts(starts: Sequence[float], per: float) -> list[int]:
    """For every start, the number of starts in ``[start, start + per)``: every window that
    can hold the most starts begins at a start, so this checks every sliding window."""
    return [bisect_left(starts, t + per) - i for i, t in enumerate(starts)]


def earliest_starts(limits: Limits, durations: Sequence[float], t0: float, *,
                    wall_offset: float = 0.0,
                    pauses: dict[int, float] | None = None,
                    from_answer: bool = False) -> list[float]:
    """The start times of ``len(durations)`` requests sent one after the other by a client
    that always has the next one waiting from ``t0`` on, each taking its duration, under a
    governor that starts each request at the earliest moment every limit allows.

    Request ``i`` starts no earlier than request ``i - 1`` (first come, first served), than
    the moment the window has room (``per_seconds`` after the oldest of the latest
    ``budget`` requests; with ``from_answer`` a request counts in the window from its
    answer once it has one, as the shared governor counts), than the ``concurrent``-th
    latest end of the requests before it (a slot frees when one ends), than the next UTC
    midnight once ``daily`` started this UTC day (``wall = clock + wall_offset``), and than
    the end of a pause: ``pauses[i] = seconds`` is a Retry-After received as request ``i``
    started.
    """
    pauses = pauses or {}
    starts: list[float] = []
    ends: list[float] = []
    paused: list[tuple[float, float]] = []
    for i, duration in enumerate(durations):
        t = starts[-1] if starts else t0
        while True:
            before = t
            if i >= limits.budget:
                counted = sorted(end if from_answer and end <= t else start for start, end in zip(starts, ends))
                inside = [w for w in counted if w > t - limits.per_seconds]
                if len(inside) >= limits.budget:
                    t = max(t, inside[len(inside) - limits.budget] + limits.per_seconds)
            if limits.concurrent is not None and i >= limits.concurrent:
                t = max(t, sorted(ends)[-limits.concurrent])
            for begin, end in paused:
                if begin <= t < end:
                    t = end
            if limits.daily is not None:
                day = math.floor((t + wall_offset) / DAY)
                today = sum(1 for s in starts if math.floor((s + wall_offset) / DAY) == day)
                if today >= limits.daily:
                    t = (day + 1) * DAY - wall_offset
            if t == before:
                break
        starts.append(t)
        ends.append(t + duration)
        if i in pauses:
            paused.append((t, t + pauses[i]))
    return starts


class SharedClock:
    """A simulated wall clock several processes read: the Unix time written in a file.

    The test moves it with :meth:`set`; each process reads it by calling the clock (a
    ``Runtime.clock``), so every process sees the same time, and time moves only when the
    test moves it. The file is replaced atomically: a reader never sees half a number.
    """

    def __init__(self, path, start: float | None = None) -> None:
        self.path = path
        if start is not None:
            self.set(start)

    def set(self, when: float) -> None:
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(repr(float(when)))
        partial.replace(self.path)

    def __call__(self) -> float:
        return float(self.path.read_text())
