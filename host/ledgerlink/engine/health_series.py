"""The health page's figures: runs per hour by status over the last days, webhook deliveries
refused per hour, and the queue now.

Runs are counted by the hour they were created in, in one grouped statement over the index
``ix_runs_created`` (:meth:`~ledgerlink.store.console.ConsoleStore.runs_per_hour`), so the
page costs the same with 100 runs or 100,000. A refused delivery is counted by
:func:`record_rejection` when it is answered (401 or 400), as an hourly tally shared by every
process; tallies older than :data:`KEEP_SECONDS` are deleted on the way. :func:`rejection_reasons`
splits the same tallies by the reason each refusal gave, over the last day and the last week.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ledgerlink.store import Store
from ledgerlink.store.console import HOUR, REJECTED_PREFIX

log = logging.getLogger("ledgerlink")

#: the hours the page shows: 7 days
HOURS = 7 * 24
#: refusal tallies are kept this long, then deleted
KEEP_SECONDS = 8 * 86400.0
#: the order statuses are stacked in, the ones a person acts on last (on top)
STATUS_ORDER = ("succeeded", "skipped", "undone", "pending", "running", "retrying", "awaiting_review",
                "paused", "rejected", "failed", "dead")


@dataclass(frozen=True)
class HealthSeries:
    """Hourly series over ``hours`` (each hour's start, Unix seconds, oldest first)."""

    hours: list[float]
    #: status -> runs created in each hour that have that status now (only statuses seen)
    runs: dict[str, list[int]]
    #: connection -> deliveries refused in each hour (only connections that had any)
    rejections: dict[str, list[int]]
    #: runs waiting now (:meth:`~ledgerlink.store.console.ConsoleStore.queue_depth`)
    queue: dict[str, int] = field(default_factory=dict)

    def totals(self) -> list[int]:
        """Runs created in each hour, whatever their status."""
        return [sum(column) for column in zip(*self.runs.values())] if self.runs else [0] * len(self.hours)

    def to_json(self) -> dict[str, Any]:
        return {"hours": self.hours, "runs": self.runs, "rejections": self.rejections, "queue": self.queue,
                "rejected_total": [sum(c) for c in zip(*self.rejections.values())]
                if self.rejections else [0] * len(self.hours)}


def window(now: float, hours: int = HOURS) -> list[float]:
    """The starts of the ``hours`` hours ending with the one holding ``now``, oldest first."""
    last = math.floor(now / HOUR) * HOUR
    return [last - HOUR * (hours - 1 - i) for i in range(hours)]


def health_series(store: Store, now: float, hours: int = HOURS) -> HealthSeries:
    """The runs per hour by status, the refusals per hour by connection and the queue now,
    over the ``hours`` hours ending with the one holding ``now``."""
    starts = window(now, hours)
    index = {start: i for i, start in enumerate(starts)}
    since, until = starts[0], starts[-1] + HOUR
    runs: dict[str, list[int]] = {}
    for hour, status, count in store.runs_per_hour(since, until):
        if hour in index:
            runs.setdefault(status, [0] * hours)[index[hour]] += count
    ordered = {s: runs.pop(s) for s in STATUS_ORDER if s in runs}
    ordered.update(sorted(runs.items()))  # a status this module does not know yet, last
    rejections: dict[str, list[int]] = {}
    for hour, connection, count in store.rejections_per_hour(since, until):
        if hour in index:
            rejections.setdefault(connection, [0] * hours)[index[hour]] += count
    return HealthSeries(starts, ordered, dict(sorted(rejections.items())), store.queue_depth(now))


def record_rejection(store: Store, connection: str, reason: str, at: float) -> None:
    """Count one delivery to ``connection`` refused at ``at`` in its hour's tally (and, at an
    hour's first refusal, delete the tallies past :data:`KEEP_SECONDS`). A database that is
    away costs the count, not the refusal's answer."""
    try:
        tally = store.tally(REJECTED_PREFIX + connection, HOUR, reason, None, at)
        if tally.count == 1:
            store.forget_rejections(at - KEEP_SECONDS)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("could not count a refused delivery to %s: %s", connection, type(exc).__name__)


@dataclass(frozen=True)
class Rejection:
    """Deliveries to one connection refused for one reason: in the last day, in the last week."""

    connection: str
    reason: str
    day: int
    week: int

    def to_json(self) -> dict[str, Any]:
        return {"connection": self.connection, "reason": self.reason, "day": self.day, "week": self.week}


def rejection_reasons(store: Store, now: float) -> list[Rejection]:
    """The refusals by connection and reason over the 24 and the :data:`HOURS` hours ending
    with the one holding ``now``, the most refused over the week first."""
    starts = window(now, HOURS)
    day_start = starts[-24]
    found: dict[tuple[str, str], list[int]] = {}
    for hour, connection, reason, count in store.rejections_by_reason(starts[0], starts[-1] + HOUR):
        tally = found.setdefault((connection, reason), [0, 0])
        tally[1] += count
        if hour >= day_start:
            tally[0] += count
    ordered = sorted(found.items(), key=lambda item: (-item[1][1], item[0]))
    return [Rejection(connection, reason, day, week) for (connection, reason), (day, week) in ordered]
