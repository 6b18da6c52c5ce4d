"""Xero's limits: what the governor keeps each organisation inside, and what Xero's answers
say is left of them.

Xero counts per app and organisation (https://developer.xero.com/documentation/guides/oauth2/limits):
60 calls a minute, 5 in progress at once and 5,000 a day — 1,000 on the Starter tier, the
connection's ``daily_limit`` — and 10,000 a minute for the app across organisations. Every
answer carries ``X-MinLimit-Remaining``, ``X-DayLimit-Remaining`` and
``X-AppMinLimit-Remaining``; a breach is a 429 naming the limit in ``X-Rate-Limit-Problem``,
with ``Retry-After`` in seconds for the minute and the day (:mod:`.errors` reads it).

:func:`read_remaining` hands the organisation's two counts to the host's governor, which
narrows its own to them: calls another installation of the app made on the organisation
count, and a day used up waits for the next day (the governor's UTC day; if Xero's day
resets later, its one 429 says when, and the organisation is paused until then).

The whole minute is used (``headroom=1.0``): the governor's sliding window of 60 keeps every
fixed minute Xero counts inside 60 on our clock, and what network jitter could add is what
``X-MinLimit-Remaining`` corrects (or, at worst, one 429 waited out as Xero says).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import Limits, Remaining, header

from .settings import DEFAULT_DAILY_LIMIT

#: calls a minute and calls in progress at once, per organisation
PER_MINUTE = 60
CONCURRENT = 5


def limits(daily: int = DEFAULT_DAILY_LIMIT) -> Limits:
    """Xero's per-organisation limits with ``daily`` calls a day."""
    return Limits(PER_MINUTE, 60.0, concurrent=CONCURRENT, daily=daily, headroom=1.0)


def limits_for(values: Mapping[str, Any]) -> Limits:
    """The limits of one connection: its ``daily_limit`` (5,000, or 1,000 on the Starter tier)."""
    daily = values.get("daily_limit", DEFAULT_DAILY_LIMIT)
    if isinstance(daily, bool) or not isinstance(daily, int) or daily < 1:
        daily = DEFAULT_DAILY_LIMIT
    return limits(daily)


def _count(headers: Mapping[str, str], name: str) -> int | None:
    value = (header(headers, name) or "").strip()
    return int(value) if value.isdigit() else None


def read_remaining(headers: Mapping[str, str]) -> Remaining | None:
    """The organisation's calls left this minute and this day, from an answer's
    ``X-MinLimit-Remaining`` and ``X-DayLimit-Remaining`` (None when it carries neither)."""
    minute, day = _count(headers, "X-MinLimit-Remaining"), _count(headers, "X-DayLimit-Remaining")
    if minute is None and day is None:
        return None
    return Remaining(window=minute, day=day)


__all__ = ["CONCURRENT", "PER_MINUTE", "limits", "limits_for", "read_remaining"]
