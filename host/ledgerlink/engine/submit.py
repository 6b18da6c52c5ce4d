"""Submitting one event by hand: an operator's trial sync ("send this one for real").

An event an operator hands in (a trigger's sample, an event pasted from the vendor's
dashboard, or one already in the inbox) has no signature to verify: it is the operator's,
not a sender's, and only a signed-in operator may submit it. It takes the inbox's own path
from there: it is checked as a delivery is (:func:`~ledgerlink.engine.inbox.check_storable`),
stored in the inbox under its own id on the recipe's connection, and the recipe's run is
planned by the inbox's :meth:`~ledgerlink.engine.inbox.Inbox.planned_runs` (trigger filter,
occurrence key), so a worker runs it like any other run.

Exactly once: an event already in the inbox is not stored again, and a recipe that already
has a run for the event, or for the object it is about (its occurrence key), gets no
other. Submitting the same event twice, or an event that was also delivered by webhook,
books it once; the answer names the run that books it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ledgerlink import jsonio
from ledgerlink.contract import IncomingEvent
from ledgerlink.engine.inbox import check_storable
from ledgerlink.engine.occurrence import occurrence_key
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import Conflict
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.store import RunFilter

log = logging.getLogger("ledgerlink")


@dataclass(frozen=True)
class Submitted:
    """What submitting an event did."""

    #: the stored event's pk
    event_pk: int
    #: whether the event was new to the inbox (False: it was there already)
    stored: bool
    #: the run that books the event for the recipe: planned now, or the one it had already
    #: (None: the recipe's run for this object came from another event, or the event's
    #: entity is fetched before its run is planned)
    run_id: int | None
    #: whether ``run_id`` was planned by this submission
    planned: bool
    #: the event's entity is fetched before its run is planned (its trigger fetches)
    fetching: bool = False


def submit(runtime: Runtime, recipe: Recipe, event: IncomingEvent) -> Submitted:
    """Store ``event`` on ``recipe``'s connection and plan ``recipe``'s run for it, once.

    Raises EventError when the event cannot be stored, Conflict when the recipe is disabled,
    its trigger filter does not accept the event (nothing would run) or the event is another
    trigger's."""
    trigger = recipe.trigger
    if not recipe.enabled:
        raise Conflict(f"recipe {recipe.id!r} is disabled, so it books nothing: enable it (\"enabled\": true) and "
                       f"reload the recipes before sending an event through it for real (a dry-run shows what it "
                       f"would send meanwhile)")
    if event.trigger != trigger.name:
        raise Conflict(f"event {event.id} is a {event.trigger!r} event; recipe {recipe.id!r} runs on "
                       f"{trigger.name!r} events: submit one of those")
    check_storable(trigger.connector, event)
    connection_name = recipe.connection
    text = event.raw if event.raw is not None else jsonio.dumps(event.payload)
    occurrence = occurrence_key(trigger, event.payload)
    if runtime.store.already_planned(recipe.id, connection_name, [(event.id, occurrence)]):
        (pk, new, _), = runtime.store.backfill(connection_name, [(event.id, event.trigger, text, [])])
        return Submitted(pk, new, _run_of(runtime, recipe, connection_name, event.id), False)
    if trigger.fetches(runtime.connections.connection(connection_name)):
        (pk, new, _), = runtime.store.backfill(connection_name, [(event.id, event.trigger, text, [], True)])
        runtime.inbox.fetch_pending = True
        runtime.wake()
        log.info("event %s submitted by hand on %r: fetched before its runs are planned", event.id, connection_name)
        return Submitted(pk, new, None, False, fetching=True)
    planned = runtime.inbox.planned_runs([recipe], event)
    if not planned:
        raise Conflict(f"the trigger filter of recipe {recipe.id!r} does not accept event {event.id}, so no run "
                       f"would book it; submit an event the filter accepts, or change the filter")
    (pk, new, run_ids), = runtime.store.backfill(connection_name, [(event.id, event.trigger, text, planned)])
    if run_ids:
        runtime.wake()
        log.info("event %s submitted by hand on %r: run %d of recipe %r version %d planned", event.id,
                 connection_name, run_ids[0], recipe.id, recipe.version)
        return Submitted(pk, new, run_ids[0], True)
    # planned by another process between the look-up and the insert: its run books the event
    return Submitted(pk, new, _run_of(runtime, recipe, connection_name, event.id), False)


def _run_of(runtime: Runtime, recipe: Recipe, connection: str, event_id: str) -> int | None:
    """The newest run of ``recipe`` (any version) for event ``event_id`` of ``connection``;
    None when its run for the object came from another event."""
    found = runtime.store.run_page(RunFilter(recipe_id=recipe.id, connection=connection, source_id=event_id),
                                   None, 1)
    return found[0]["id"] if found else None
