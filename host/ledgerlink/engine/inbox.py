"""The inbox: events received (webhooks) or pulled (polls, fetches) are checked, stored and planned.

:meth:`Inbox.receive` verifies, parses, stores and plans a webhook delivery in one
transaction, then answers; each event is routed to the connection of its tenant, and the
runs its recipes plan are stored with it. A trigger that carries ids only (``fetch``) is
stored now and planned by a worker once its entity is fetched
(:mod:`ledgerlink.engine.fetching`). :func:`check_storable` refuses what a database could
not store, before anything is stored.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.contract import Connector, IncomingEvent
from ledgerlink.engine.occurrence import occurrence_key
from ledgerlink.engine.runner import document
from ledgerlink.errors import ConfigError, EventError, LedgerlinkError, SignatureError, quoted
from ledgerlink.io.connections import Connections, Counters
from ledgerlink.io.oauth import token_set
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.recipes.registry import Registry
from ledgerlink.store import Store
from ledgerlink.store.events import PlannedRun, deduplicated

log = logging.getLogger("ledgerlink")


class Inbox:
    """Receives and plans events for the recipes of ``registry``; ``wake`` wakes the workers
    when runs (or notifications to fetch) were stored."""

    def __init__(self, connections: Connections, registry: Registry, store: Store, metrics: Counters,
                 wake: Callable[[], None]) -> None:
        self.connections = connections
        self.registry = registry
        self.store = store
        self.metrics = metrics
        self._wake = wake
        #: set when this process stored a notification to fetch; workers then look at once
        self.fetch_pending = False

    def receive(self, connection_name: str, headers: Mapping[str, str], body: bytes,
                now: float | None = None) -> dict[str, Any]:
        """Verify, parse, store and plan a webhook delivery. Returns what was stored.

        Raises SignatureError (nothing stored), EventError (nothing stored) or ConfigError. A
        delivery the connector's ``Webhook.handshake`` recognises is not verified: its secret
        is kept pending (:func:`ledgerlink.io.subscriptions.learn`) and nothing else is stored.
        Returns only after the commit, so the caller may acknowledge. A notification that
        carries ids only (its trigger has ``fetch``) is stored now and its runs are planned
        by a worker once the entity is fetched. What a recipe makes of an event never
        refuses it: a trigger filter that cannot be evaluated on it plans a failed run (see
        :meth:`planned_runs`).
        """
        connection = self.connections.connection(connection_name)
        connector = self.connections.catalog.connectors[connection.connector]
        if connector.webhook is None:
            raise ConfigError(f"connector {connector.name!r} of connection {connection_name!r} does not "
                              f"receive webhooks")
        handshake = connector.webhook.handshake(headers, body) if connector.webhook.handshake else None
        if handshake is not None:  # a subscription's secret, not events: kept pending, never used yet
            from ledgerlink.io.subscriptions import learn

            learn(self.connections, connection_name, handshake)
            self.metrics.add("webhook_handshakes", 1)
            log.info("connection %r received the handshake of webhook subscription %s", connection_name,
                     handshake.subscription)
            return {"received": 0, "stored": 0, "duplicates": 0, "runs_planned": 0,
                    "handshake": handshake.subscription}
        when = time.time() if now is None else now
        try:
            connector.webhook.verify(headers, body, {**connection.settings, **self.connections.secrets(connection_name)},
                                     when)
        except SignatureError:
            if connector.webhook.handshake is None or not self.connections.secret_box.enabled:
                raise
            # a subscription confirmed by another process moments ago: its secret may not be in
            # this process's cache of the stored secrets yet
            self.connections.secret_box.forget(token_set(self.connections, connection_name))
            connector.webhook.verify(headers, body, {**connection.settings, **self.connections.secrets(connection_name)},
                                     when)
        by_connection: dict[str, list[IncomingEvent]] = {}
        unrouted: list[IncomingEvent] = []
        for event in connector.webhook.parse(headers, body):
            check_storable(connector.name, event)
            target = self._route(connection_name, connector, event)
            if target is None:
                unrouted.append(event)
            else:
                by_connection.setdefault(target, []).append(event)
        results = []
        refused = 0
        for target, events in by_connection.items():
            items = self.plan_items(target, events)
            stored_here = self.store.ingest(target, items)
            refused += deduplicated(items, stored_here)
            results += stored_here
        if unrouted:  # kept for the record; no connection here is that tenant's, so nothing runs
            log.warning("connection %r received %d event(s) for tenant(s) %s, which no configured %s "
                        "connection has; they are stored and not run", connection_name, len(unrouted),
                        ", ".join(sorted({str(e.tenant) for e in unrouted})), connector.name)
            self.metrics.add("events_unrouted", len(unrouted))
            results += self.store.ingest(connection_name, [
                (e.id, e.trigger, e.raw if e.raw is not None else jsonio.dumps(e.payload), []) for e in unrouted])
        ignored = self._ignored(connector, [e for events in by_connection.values() for e in events])
        stored = sum(1 for _, new, _ in results if new)
        planned_runs = sum(len(r) for _, _, r in results)
        self.metrics.add("webhooks_received", 1)
        self.metrics.add("events_stored", stored)
        self.metrics.add("events_duplicate", len(results) - stored)
        self.metrics.add("runs_planned", planned_runs)
        if refused:
            self.metrics.add("runs_deduplicated", refused)
        if planned_runs or self.fetch_pending:
            self._wake()
        answer: dict[str, Any] = {"received": len(results), "stored": stored,
                                  "duplicates": len(results) - stored, "runs_planned": planned_runs}
        if refused:  # its recipes already had a run for the object these events are about
            answer["runs_deduplicated"] = refused
        if ignored:
            answer["ignored"] = ignored
        return answer

    def _ignored(self, connector: Connector, events: list[IncomingEvent]) -> list[dict[str, str]]:
        """The events no registered trigger is about, each with the reason it starts no run.

        A vendor sends event types its connector does not (yet) handle, e.g. when an endpoint
        subscribes to every type: they are acknowledged and stored like any other (a later
        version may handle them, and a replay finds them), logged, counted and answered with
        the reason, so a sender or an operator sees why nothing ran."""
        ignored = []
        for event in events:
            if event.trigger in self.connections.catalog.triggers:
                continue
            reason = (f"no trigger {event.trigger!r} is registered: the {connector.name} connector does not "
                      f"handle this event type, so the event is stored and starts no run")
            log.info("event %s ignored: %s", event.id, reason)
            ignored.append({"id": event.id, "trigger": event.trigger, "reason": reason})
        if ignored:
            self.metrics.add("events_ignored", len(ignored))
        return ignored

    def plan_items(self, connection_name: str, events: list[IncomingEvent]) -> list[tuple[Any, ...]]:
        """What the store is handed for ``events`` of one connection: each event with the
        runs its recipes plan, or marked to be fetched first when its trigger fetches."""
        items: list[tuple[Any, ...]] = []
        for event in events:
            recipes = [r for r in self.registry.for_trigger(event.trigger) if r.connection == connection_name]
            text = event.raw if event.raw is not None else jsonio.dumps(event.payload)
            trigger = self.connections.catalog.triggers.get(event.trigger)
            if trigger is not None and recipes and trigger.fetches(self.connections.connection(connection_name)):
                items.append((event.id, event.trigger, text, [], True))
                self.fetch_pending = True
                continue
            items.append((event.id, event.trigger, text, self.planned_runs(recipes, event)))
        return items

    def planned_runs(self, recipes: list[Recipe], event: IncomingEvent) -> list[PlannedRun]:
        """The runs ``recipes`` plan for ``event`` (as fetched, when its trigger fetches):
        one for each recipe whose trigger filter accepts it, and one with an ``error`` for
        each whose filter cannot be evaluated on it (a value of an unexpected type, say).
        Each carries the event's occurrence key (:mod:`ledgerlink.engine.occurrence`), so a
        recipe that already has a run for the object the event is about gets no other.

        The second kind is stored as a failed run, never retried: the event stays stored
        and acknowledged, the run's error names the recipe file, the filter's pointer and the
        fix, and once the filter is fixed the run is replayed on the recipe's latest version.
        """
        planned: list[PlannedRun] = []
        if not recipes:
            return planned
        occurrence = occurrence_key(self.connections.catalog.triggers.get(event.trigger), event.payload)
        for recipe in recipes:
            try:
                if recipe.matches(document(recipe, event)):
                    planned.append(PlannedRun(recipe.id, recipe.version, None, occurrence))
            except LedgerlinkError as exc:
                error = (f"the trigger filter cannot be evaluated on event {event.id}: {exc.message}; "
                         f"fix the filter in {recipe.file or recipe.id}, then replay this run on the "
                         f"latest version")
                log.warning("recipe %r version %d: %s", recipe.id, recipe.version, error)
                self.metrics.add("runs_failed", 1)
                planned.append(PlannedRun(recipe.id, recipe.version, error, occurrence))
        return planned

    def _route(self, received_on: str, connector: Connector, event: IncomingEvent) -> str | None:
        """The connection an event belongs to: the one it arrived on, unless the connector
        names tenants and the event is another connection's tenant's (None: nobody's)."""
        setting = connector.webhook.tenant_setting
        if not setting or event.tenant is None:
            return received_on
        if str(self.connections.connection(received_on).settings.get(setting)) == str(event.tenant):
            return received_on
        for name, raw in self.connections.config.connections.items():
            if raw.get("connector") == connector.name and name != received_on:
                if str(self.connections.connection(name).settings.get(setting)) == str(event.tenant):
                    return name
        return None


#: the longest event id and trigger name the inbox holds (its event_id and trigger columns)
MAX_EVENT_ID = 255
MAX_TRIGGER = 200
#: characters no id is made of, and PostgreSQL cannot store (NUL) or encode (surrogates)
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
#: characters no text a run stores may hold: PostgreSQL text refuses NUL, UTF-8 surrogates
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


#: what reading stored text raises when the text itself is at fault (a lone surrogate,
#: nesting too deep): every attempt would raise it again, so it fails at once
UNREADABLE = (jsonio.JSONDecodeError, UnicodeError, RecursionError)


def every_attempt(exc: BaseException) -> str:
    """An error that every attempt would meet again, in words (a database's own words,
    never the statement or its parameters)."""
    detail = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    return f"{type(detail).__name__}: {detail}; it would fail the same way on every attempt"


def check_storable(connector: str, event: IncomingEvent) -> None:
    """EventError unless ``event`` can be stored and processed as it is, on SQLite and
    PostgreSQL alike: its id and trigger are non-empty text of at most :data:`MAX_EVENT_ID`
    (:data:`MAX_TRIGGER`) characters without control characters or surrogates, and no
    string of its payload (key or value) holds NUL (U+0000) or a surrogate — a run copies
    such strings into ids, links and requests, where they cannot be stored or sent.

    An event delivered with its JSON text (``raw``) whose text is plainly storable
    (:func:`_plainly_storable`) is not walked: that text holds every key and string of the
    payload as written."""
    for what, value, limit in (("id", event.id, MAX_EVENT_ID), ("trigger", event.trigger, MAX_TRIGGER)):
        if not isinstance(value, str) or not value:
            raise EventError(f"a {connector} event needs a non-empty {what}; got {quoted(value)}")
        if len(value) > limit:
            raise EventError(f"the {what} of a {connector} event is {len(value)} characters long "
                             f"({quoted(value, 40)}); the inbox holds at most {limit}")
        bad = _UNSTORABLE.search(value)
        if bad is not None:
            raise EventError(f"the {what} of a {connector} event, {quoted(value, 60)}, holds the character "
                             f"U+{ord(bad.group()):04X}, which an {what} cannot hold")
    found = None
    if event.raw is None or not _plainly_storable(event.raw):
        found = _unstorable_text(event.payload)
    if found is not None:
        # the pointer may name a key holding the character: write it escaped, as JSON does
        pointer = _UNSTORABLE_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", found[0])
        char = found[1]
        raise EventError(f"{connector} event {event.id} holds the character U+{ord(char):04X} at "
                         f"{pointer or '/'}; it cannot be stored as text (PostgreSQL refuses NUL, "
                         f"UTF-8 has no surrogates), so the event cannot be processed",
                         pointer=pointer or "/")


def _plainly_storable(text: str) -> bool:
    """True when JSON ``text`` cannot stand for NUL or a surrogate: ASCII (no surrogate
    written as itself), with no ``\\u`` escape (no character written escaped) and no NUL.
    Three passes in C, the first free; any other text is read the long way."""
    return text.isascii() and "\\u" not in text and "\x00" not in text


def _decimal_text(value: Any) -> str:
    if isinstance(value, Decimal):  # a number as jsonio reads it: digits, no unstorable character
        return str(value)
    raise TypeError(type(value).__name__)


def _may_hold_unstorable(value: Any) -> bool:
    """False when no key or string of ``value`` can hold NUL or a surrogate (one C pass)."""
    try:
        text = json.dumps(value, ensure_ascii=True, default=_decimal_text)
    except (TypeError, ValueError, RecursionError):  # not plain JSON, or deeper than C recursion: walk
        return True
    return "\\u0000" in text or "\\ud" in text


def _unstorable_text(value: Any) -> tuple[str, str] | None:
    """The JSON pointer of the first key or string in ``value`` holding NUL or a surrogate,
    and that character; None when there is none. Iterative: nesting depth costs no stack.
    The common answer, none, comes from the C JSON encoder: its ASCII text writes NUL as
    ``\\u0000`` and every surrogate (and every character beyond U+FFFF, as a pair) as
    ``\\udXXX``, so a text with neither holds none; only otherwise is the place looked for."""
    if not _may_hold_unstorable(value):
        return None
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, str):
            bad = _UNSTORABLE_TEXT.search(node)
            if bad is not None:
                return pointer, bad.group()
        elif isinstance(node, Mapping):
            for key, item in node.items():
                here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
                bad = _UNSTORABLE_TEXT.search(key) if isinstance(key, str) else None
                if bad is not None:
                    return here, bad.group()
                stack.append((here, item))
        elif isinstance(node, list):
            stack.extend((f"{pointer}/{i}", item) for i, item in enumerate(node))
    return None

