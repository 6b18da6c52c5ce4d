"""The events a trial sync of a recipe is run on: the trigger's samples, a pasted event, or
one the inbox holds.

- :func:`samples`: the trigger's own sample event, then each example delivery of its
  connector (``Connector.examples``, as ``ledgerlink demo`` sends them) that is an event of
  the recipe's trigger;
- :func:`pasted`: event JSON as an operator pastes it, read the way the trigger's webhook
  reads a delivery (:func:`ledgerlink.engine.dryrun.event_from_payload`), with a clear
  EventError for text that is not JSON;
- :func:`recent` and :func:`stored`: the latest events of the recipe's trigger that its
  connection received, and one of them read back.
"""

from __future__ import annotations

from typing import Any

from ledgerlink import jsonio
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.contract import IncomingEvent
from ledgerlink.engine.dryrun import event_from_payload
from ledgerlink.errors import EventError, LedgerlinkError
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.store import Store

#: the most characters of pasted event JSON read (a Stripe event is a few kilobytes; a web
#: form's field holds at most 500 kB, Flask's MAX_FORM_MEMORY_SIZE)
MAX_PASTE = 400_000
#: how many recent events are offered
RECENT = 20


def samples(recipe: Recipe, catalog: Catalog) -> list[tuple[str, IncomingEvent]]:
    """``(label, event)`` for each sample of ``recipe``'s trigger, the trigger's own first."""
    trigger = recipe.trigger
    sample = trigger.sample
    found = [(f"{trigger.name} sample ({sample.get('id', 'sample')})",
              IncomingEvent(id=str(sample.get("id", "sample")), trigger=trigger.name, payload=sample))]
    connector = catalog.connectors.get(trigger.connector)
    if connector is None or connector.examples is None or connector.webhook is None:
        return found
    for label, body in connector.examples():
        try:
            events = connector.webhook.parse({}, body)
        except LedgerlinkError:  # an example another trigger's parser refuses is not offered
            continue
        seen = {event.id for _, event in found}  # an example delivered twice is offered once
        found += [(f"{label} ({event.id})", event) for event in events
                  if event.trigger == trigger.name and event.id not in seen]
    return found


def pasted(recipe: Recipe, catalog: Catalog, text: str) -> IncomingEvent:
    """The event ``text`` holds, as the trigger's webhook would read it. Raises EventError
    naming the line and column of text that is not JSON, or what the event lacks."""
    if not text.strip():
        raise EventError("the pasted event is empty: paste the event's JSON (as the vendor's dashboard or "
                         "webhook log shows it)")
    if len(text) > MAX_PASTE:
        raise EventError(f"the pasted event is {len(text)} characters long; at most {MAX_PASTE} are read: paste "
                         f"one event, not a list")
    try:
        payload: Any = jsonio.loads(text)
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"the pasted event is not JSON (line {exc.line}, column {exc.column}: {exc.msg}); paste "
                         f"the event exactly as the vendor shows it, from its first {{ to its last }}") from None
    if not isinstance(payload, dict):
        kind = ("array" if isinstance(payload, list) else "string" if isinstance(payload, str)
                else "null" if payload is None else "boolean" if isinstance(payload, bool) else "number")
        raise EventError(f"the pasted event is a JSON {kind}, not an object; paste one event, from its first {{ "
                         f"to its last }}")
    return event_from_payload(recipe, catalog, payload, text.encode(), "the pasted event")


def recent(recipe: Recipe, store: Store, limit: int = RECENT) -> list[dict[str, Any]]:
    """The latest events of ``recipe``'s trigger its connection received, newest first."""
    return store.recent_events(recipe.connection, recipe.trigger.name, limit)


def stored(recipe: Recipe, store: Store, pk: int) -> IncomingEvent:
    """Stored event ``pk``, when it is an event of ``recipe``'s trigger on its connection."""
    row = store.event(pk)
    if row is None or row["connection"] != recipe.connection or row["trigger"] != recipe.trigger.name:
        raise EventError(f"no stored {recipe.trigger.name} event {pk} of connection {recipe.connection!r}; "
                         f"pick one of the recent events listed")
    try:
        payload = jsonio.loads(row["payload"])
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"stored event {row['event_id']} cannot be read ({exc.msg}); pick another") from None
    return IncomingEvent(row["event_id"], row["trigger"], payload)
