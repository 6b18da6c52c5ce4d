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

This is the clock for recipes: each event is one recipe's and plans that recipe alone, and a
recipe not enabled is not asked. A plugin's own periodic work — what belongs to no one
recipe, needs the host (its tallies) or raises an event for every recipe on a trigger — is
the behaviour hook ``ledgerlink_tick(now, host)`` instead
(:func:`ledgerlink.contract.hookspecs.ledgerlink_tick`). Both are called by every worker
about once a second and read the runtime's one clock.

A ticking trigger may also set ``schedule`` (:attr:`ledgerlink.contract.Trigger.schedule`):
told the same :class:`Tick`, it answers with a :class:`Schedule` — the expression, its
zone, how it catches up, when the last tick raised was due and when the next one is — which
``ledgerlink schedules`` and ``GET /api/schedules`` show for each recipe on the trigger.
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


@dataclass(frozen=True)
class Schedule:
    """What a clock-driven trigger says of one recipe's schedule (shown, never acted on)."""

    #: the expression the recipe set, as the trigger reads it (``"0 7 * * *"``)
    expression: str
    #: the IANA zone it is read in (the options' own, else the recipe's)
    timezone: str
    #: what fires after downtime (``"once"``, ``"every"``), as the trigger names it
    catch_up: str
    #: when the last tick raised (``Tick.last_event_id``) was due, Unix seconds; None: none yet
    last_tick: float | None
    #: when the next tick is due, Unix seconds: the first after ``last_tick`` (earlier than
    #: ``Tick.now`` when ticks were missed), or with none raised yet the first that would
    #: fire; None when the expression never fires again
    next_tick: float | None
