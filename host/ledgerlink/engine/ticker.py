"""The ticker: clock-driven triggers asked for their due events, stored once across processes.

Every worker process calls :func:`tick` about once a second (:meth:`Worker.side_work
<ledgerlink.engine.worker.Worker.side_work>`). For each enabled recipe whose trigger ticks
(:mod:`ledgerlink.contract.clock`), the trigger is told the recipe's options, the time now
and the last event it raised for the recipe (read from the inbox), and answers with the
events now due. They are stored like a webhook's, each planning one run of that recipe
alone: an event id already stored — by this process or another — stores nothing and plans
nothing, so a tick fires once however many processes ask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.contract import IncomingEvent, Tick, event_prefix
from ledgerlink.engine.inbox import Inbox, check_storable
from ledgerlink.errors import EventError, LedgerlinkError
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.recipes.registry import Registry
from ledgerlink.store import Store

log = logging.getLogger("ledgerlink")


def ticking(registry: Registry) -> list[Recipe]:
    """The enabled recipes whose trigger is clock-driven."""
    return [r for r in registry.active().values() if r.enabled and r.trigger.tick is not None]


def tick(registry: Registry, inbox: Inbox, store: Store, now: float,
         wake: Callable[[], None] | None = None) -> int:
    """Store the events due now for every ticking recipe; returns how many were new.

    A trigger that raises, or answers with an event whose id lacks the recipe's prefix, is
    logged and skipped (the other recipes still tick); it is asked again next time. A
    database error is raised: the worker waits for the database, as for its runs."""
    stored = 0
    for recipe in ticking(registry):
        prefix = event_prefix(recipe.trigger.name, recipe.id)
        try:
            last = store.last_event_id(recipe.connection, prefix)
            due = recipe.trigger.tick(Tick(recipe_id=recipe.id, options=recipe.trigger_options,
                                           timezone=recipe.timezone, now=now, last_event_id=last))
            for event in due:
                _check(recipe, event, prefix)
        except LedgerlinkError as exc:
            log.warning("recipe %r: trigger %s cannot tick: %s", recipe.id, recipe.trigger.name, exc.message)
            continue
        except sa.exc.DBAPIError:
            raise  # the database is away: the worker waits for it
        except Exception:  # a bug in the plugin: the other recipes still tick, polls still run
            log.exception("recipe %r: trigger %s raised while ticking; it is asked again next time",
                          recipe.id, recipe.trigger.name)
            continue
        if not due:
            continue
        items = [(e.id, e.trigger, jsonio.dumps(e.payload), inbox.planned_runs([recipe], e)) for e in due]
        results = store.ingest(recipe.connection, items, now=now)
        new = sum(1 for _, fresh, _ in results if fresh)
        if new:
            log.info("recipe %r: %d tick(s) of %s stored (%s)", recipe.id, new, recipe.trigger.name,
                     ", ".join(e.id.removeprefix(prefix) for e in due))
        stored += new
    if stored and wake is not None:
        wake()
    return stored


def _check(recipe: Recipe, event: IncomingEvent, prefix: str) -> None:
    """EventError unless ``event`` can be stored as one of ``recipe``'s ticks."""
    check_storable(recipe.trigger.connector, event)
    if not event.id.startswith(prefix) or event.trigger != recipe.trigger.name:
        raise EventError(f"trigger {recipe.trigger.name} raised event {event.id!r} of trigger "
                         f"{event.trigger!r} for recipe {recipe.id!r}; its events are of that trigger "
                         f"and their ids begin with {prefix!r}")
