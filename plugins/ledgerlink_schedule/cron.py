"""The ticks of a cron expression in a time zone, and which of them are due now.

The expression is read and evaluated by cronsim (the library Healthchecks.io monitors cron
jobs with), which follows Debian's cron, daylight saving time included: a time that does
not exist on the day clocks go forward fires at the first minute that does, and a time the
day clocks go back passes twice fires once. Ticks are computed in the recipe's time zone
and named in UTC, so a tick has one name in every process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

UTC = timezone.utc
#: a tick's name in an event id: fixed width, so a later tick sorts after an earlier one
ID_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: how late a first tick may still fire: a recipe enabled moments after its tick (or a
#: process that started then) fires it; one enabled later waits for the next tick
FIRST_TICK_GRACE = 60.0
#: the most missed ticks counted after an outage (past it the count says "at least")
MAX_COUNTED = 100_000


@dataclass(frozen=True)
class Due:
    """One tick to fire now: when, the window it closes, and what was missed before it."""

    tick: datetime
    #: the start of the window the tick closes (a report covers ``since`` up to ``tick``)
    since: datetime | None
    #: ticks passed over before this one and not fired (catch-up ``once``, or past the cap)
    missed: int
    #: True when ``missed`` reached :data:`MAX_COUNTED` and stopped counting
    missed_at_least: bool = False


def check(expression: str) -> str | None:
    """Why ``expression`` is not a cron expression cronsim can evaluate; None when it is."""
    try:
        CronSim(expression, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        return str(exc)
    except (ValueError, TypeError) as exc:
        return str(exc) or type(exc).__name__
    return None


def zone(name: str) -> ZoneInfo | None:
    """The IANA time zone ``name``; None when there is none of that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def after(expression: str, start: datetime) -> Iterator[datetime]:
    """The ticks strictly after ``start`` (an aware datetime), in ``start``'s time zone."""
    return iter(CronSim(expression, start))


def before(expression: str, start: datetime) -> datetime | None:
    """The latest tick strictly before ``start``; None when none in cronsim's 50 years."""
    return next(iter(CronSim(expression, start, reverse=True)), None)


def latest_up_to(expression: str, now: datetime) -> datetime | None:
    """The latest tick at or before ``now`` (ticks fall on whole minutes)."""
    return before(expression, now.replace(second=0, microsecond=0) + timedelta(minutes=1))


def next_due(expression: str, tz: ZoneInfo, now: float, last: datetime | None) -> datetime | None:
    """The next tick :func:`due` will fire (None: the expression never fires again).

    After ``last``, the first tick following it: earlier than ``now`` when ticks were missed
    (every process was stopped), and fired (or caught up) as soon as a process asks. With
    no last tick, the first one young enough to fire: a tick at most
    :data:`FIRST_TICK_GRACE` seconds old, else the first after ``now``."""
    if last is not None:
        start = last.astimezone(tz)
    else:
        start = datetime.fromtimestamp(now - FIRST_TICK_GRACE, tz) - timedelta(microseconds=1)
    return next(after(expression, start), None)


def due(expression: str, tz: ZoneInfo, now: float, last: datetime | None, catch_up: str,
        cap: int) -> list[Due]:
    """The ticks to fire at ``now`` (Unix seconds) when ``last`` (UTC) was the last fired.

    Without a last tick, only a tick at most :data:`FIRST_TICK_GRACE` seconds old fires.
    After one, every tick since is due: ``"once"`` fires the latest, carrying how many were
    missed and a window reaching back to ``last``; ``"every"`` fires each, at most ``cap``
    (the latest ones: the first fired says how many were passed over)."""
    local_now = datetime.fromtimestamp(now, tz)
    if last is None:
        latest = latest_up_to(expression, local_now)
        if latest is None or now - latest.timestamp() > FIRST_TICK_GRACE:
            return []
        return [Due(latest.astimezone(UTC), _utc(before(expression, latest)), 0)]
    ticks: deque[datetime] = deque(maxlen=max(cap, 1))
    counted = 0
    for tick in after(expression, last.astimezone(tz)):
        if tick.timestamp() > now or counted >= MAX_COUNTED:
            break
        counted += 1
        ticks.append(tick)
    if not ticks:
        return []
    at_least = counted >= MAX_COUNTED
    if catch_up == "once":
        return [Due(ticks[-1].astimezone(UTC), last, counted - 1, at_least)]
    passed_over = counted - len(ticks)
    out = []
    previous: datetime | None = last if not passed_over else _utc(before(expression, ticks[0]))
    for index, tick in enumerate(ticks):
        out.append(Due(tick.astimezone(UTC), previous, passed_over if index == 0 else 0,
                       at_least and index == 0))
        previous = tick.astimezone(UTC)
    return out


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)
