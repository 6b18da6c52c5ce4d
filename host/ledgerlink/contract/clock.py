"""Clock-driven triggers: events raised by time passing rather than by a vendor.

A trigger that sets ``tick`` (:attr:`ledgerlink.contract.Trigger.tick`) is asked by every
worker process, about once a second, which of its events are due for each enabled recipe
that starts on it. It answers from a :class:`Tick` alone — the recipe's trigger options,
its time zone, the time now and the id of the last event it raised for the recipe — so
every process gives the same answer; the host stores the events in the inbox, where an id
stored once is never stored again, and plans one run of that recipe for each. That is how
a schedule fires once per tick however many processes run, and how it knows what it missed
while none ran.

The rule a ticking trigger keeps: each event id it raises for a recipe begins with
:func:`event_prefix` (``"{trigger}:{recipe}:"``), and among one recipe's events a later
tick has the greater id (UTC timestamps of fixed width do), so the greatest stored id is
the last tick raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tick:
    """What a clock-driven trigger is told when it is asked for its due events."""

    #: the recipe the events are for
    recipe_id: str
    #: the recipe's ``trigger.options``, valid against the trigger's ``options_schema``
    options: Mapping[str, Any]
    #: the recipe's time zone (an IANA name), for options that leave theirs out
    timezone: str
    #: the time now, in Unix seconds
    now: float
    #: the greatest id among the events this trigger raised for the recipe (None: none yet)
    last_event_id: str | None


def event_prefix(trigger: str, recipe_id: str) -> str:
    """What every id of an event ``trigger`` raises for ``recipe_id`` begins with."""
    return f"{trigger}:{recipe_id}:"
