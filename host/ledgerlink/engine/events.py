"""The running host as plugins see it: events raised into the inbox, behaviour hooks called.

:class:`RuntimeHost` is the :class:`ledgerlink.contract.events.Host` of one process's
:class:`~ledgerlink.engine.runtime.Runtime`; every behaviour hook that declares ``host``
receives it (:func:`call_hook`). :meth:`RuntimeHost.raise_event` stores an event exactly as
a webhook's events are stored (:meth:`ledgerlink.engine.inbox.Inbox.plan_items` and
:meth:`ledgerlink.store.Store.ingest`): its runs planned in the same transaction, its id
deduplicating across processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ledgerlink.contract import IncomingEvent
from ledgerlink.contract.events import Raised, Tally, envelope
from ledgerlink.engine.inbox import check_storable
from ledgerlink.connectors.catalog import Validator
from ledgerlink.errors import ConfigError, EventError
from ledgerlink.recipes.paths import suggest

if TYPE_CHECKING:
    from ledgerlink.engine.runtime import Runtime

log = logging.getLogger("ledgerlink")


class RuntimeHost:
    """One process's host, for plugins: raise events, count occurrences per window, read the
    clock and config tables. ``clock`` is replaceable (a simulated clock in tests)."""

    def __init__(self, runtime: "Runtime", clock: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.clock = clock

    def now(self) -> float:
        return self.clock()

    def settings(self, table: str) -> Mapping[str, Any]:
        return dict(self.runtime.config.tables.get(table, {}))

    def tally(self, key: str, length: float, error: str | None = None, run_id: int | None = None,
              at: float | None = None) -> Tally:
        return self.runtime.store.tally(key, length, error, run_id, self.now() if at is None else at)

    def closed_tallies(self, prefix: str, before: float) -> list[Tally]:
        return self.runtime.store.closed_tallies(prefix, before)

    def settle(self, tally: Tally) -> bool:
        return self.runtime.store.settle(tally, self.now())

    def raise_event(self, name: str, event_id: str, data: Mapping[str, Any], occurred_at: float | None = None,
                    connection: str | None = None) -> Raised:
        rt = self.runtime
        trigger = rt.catalog.triggers.get(name)
        if trigger is None:
            raise ConfigError(f"no trigger {name!r} is registered, so no event of it can be raised; register "
                              f"it in the plugin's ledgerlink_register_triggers" + suggest(name, rt.catalog.triggers))
        target = connection or trigger.connector
        when = self.now() if occurred_at is None else occurred_at
        event = IncomingEvent(event_id, name, envelope(name, event_id, data, when))
        check_storable(trigger.connector, event)
        error = min(Validator(trigger.event_schema).iter_errors(event.payload), key=lambda e: list(e.absolute_path),
                    default=None)
        if error is not None:  # the plugin's bug: a recipe on the trigger would read what its schema denies
            pointer = "/" + "/".join(str(p) for p in error.absolute_path)
            raise EventError(f"event {event_id} of {name} does not fit the trigger's event schema at {pointer}: "
                             f"{error.message}; raise it with the data the trigger declares", pointer=pointer)
        rt.connections.connection(target)  # ConfigError naming the fix when it is unknown
        items = rt.inbox.plan_items(target, [event])
        [(_pk, new, runs)] = rt.store.ingest(target, items)
        rt.metrics.add("events_raised", 1)
        if new:
            rt.metrics.add("events_stored", 1)
            rt.metrics.add("runs_planned", len(runs))
            log.info("event %s (%s) raised on connection %r: %d run(s) planned", event_id, name, target, len(runs))
        else:
            rt.metrics.add("events_duplicate", 1)
        if runs:
            rt.wake()
        return Raised(event_id, new, tuple(runs))


def call_hook(runtime: "Runtime", hook: str, **kwargs: object) -> None:
    """Call every plugin's implementation of behaviour hook ``hook``, each in turn, with the
    arguments it declares (``host`` is this process's :class:`RuntimeHost`).

    An exception in one implementation is logged with its plugin's name and changes
    nothing: what happened is already stored, and the other plugins are still told."""
    relay = runtime.catalog.hooks
    if relay is None:
        return
    kwargs = {**kwargs, "host": runtime.host}
    for impl in getattr(relay, hook).get_hookimpls():
        try:
            impl.function(*[kwargs[name] for name in impl.argnames])
        except Exception:
            log.exception("plugin %r: %s raised; what happened stands", impl.plugin_name, hook)
