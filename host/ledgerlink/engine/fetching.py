"""What workers pull: the entities of notifications that carry ids only, and polls.

A trigger with ``fetch`` stores its notification at once; a worker then fetches the entity
(:func:`fetch`) and plans its runs in the same transaction as it stores it. A connection
with ``poll_seconds`` is polled by one worker of all processes at a time (:func:`poll`);
its events are stored and planned with the poll's new cursor, in one transaction, and the
warnings a poll returns are logged and kept with it until a poll without warnings.

A key connection (no OAuth) whose key the vendor refuses is marked ``needs_new_key``
(:mod:`ledgerlink.io.keys`), as runs do: its fetches are paused (not failed, no attempt
counted) and its poll waits, until ``ledgerlink connect NAME`` accepts a new key.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, IncomingEvent
from ledgerlink.engine.inbox import UNREADABLE, check_storable, every_attempt
from ledgerlink.engine.retry import backoff
from ledgerlink.engine.runner import drive
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import (EventError, LedgerlinkError, NeedsNewKey, NeedsReauth, NotSent, OutcomeUnknown,
                               PluginError, Throttled, VendorError)
from ledgerlink.io import keys, outbound
from ledgerlink.store import ClaimedFetch
from ledgerlink.store.events import deduplicated
from ledgerlink.store.polls import poll_name

log = logging.getLogger("ledgerlink")


#: how a fetch ended ("done", "gone", "retrying", "paused", "failed" or "lost") and the error stored
Ended = tuple[str, str | None]


def fetch(rt: Runtime, worker: str, claimed: ClaimedFetch) -> Ended:
    """Fetch one notification's entity, then plan its runs (in one transaction).
    Returns how it ended, as stored, and the error stored with it."""
    store = rt.store
    trigger = rt.catalog.triggers.get(claimed.trigger)
    if trigger is None or trigger.fetch is None:
        error = (f"trigger {claimed.trigger!r} is not installed or does not fetch; install its "
                 f"connector and fetch the event again")
        store.fetch_later(claimed.id, worker, error, None)
        return "failed", error
    try:
        connection = rt.connections.connection(claimed.connection)
        ctx = ActionContext(connection=connection, idempotency_key="", event_id=claimed.event_id)
        entity = drive(trigger.fetch(jsonio.loads(claimed.payload), ctx), rt.connections.transport(claimed.connection))
    except Throttled as throttled:
        error = f"waiting for a {throttled.reason} slot"
        store.fetch_later(claimed.id, worker, error, time.time() + max(0.0, getattr(throttled, "delay", 1.0)),
                          count_attempt=False)
        return "retrying", error
    except NeedsReauth as exc:
        store.fetch_later(claimed.id, worker, exc.message, time.time() + 60.0, count_attempt=False)
        return "retrying", exc.message
    except (NotSent, OutcomeUnknown) as exc:
        return _fetch_retry(rt, worker, claimed, f"fetching the entity: {exc}", None)
    except VendorError as exc:
        if exc.kind == "permanent":
            return _fetch_failed(rt, worker, claimed, exc.message)
        oauth = rt.catalog.connectors[rt.connections.connection(claimed.connection).connector].oauth
        if exc.kind == "reauth" and oauth is not None and rt.connections.expire(claimed.connection):
            return _fetch_retry(rt, worker, claimed, exc.message, 0.0)
        if exc.kind == "reauth" and oauth is None:  # a key refused: nothing to refresh
            return _fetch_paused(rt, worker, claimed, exc.message)
        return _fetch_retry(rt, worker, claimed, exc.message, exc.retry_after)
    except LedgerlinkError as exc:
        return _fetch_failed(rt, worker, claimed, exc.message)
    except UNREADABLE as exc:  # the stored notification cannot be read: fail now, never retry
        return _fetch_failed(rt, worker, claimed, f"the notification {claimed.event_id} cannot be read: "
                                           f"{every_attempt(exc)}")
    if entity is None:
        if store.fetched(claimed.id, worker, None, [], gone=True) is None:
            return "lost", None
        rt.metrics.add("events_gone", 1)
        return "gone", None
    event = IncomingEvent(claimed.event_id, claimed.trigger, entity)
    try:
        check_storable(trigger.connector, event)
    except EventError as exc:  # PostgreSQL would refuse it on every attempt
        return _fetch_failed(rt, worker, claimed, exc.message)
    planned = rt.inbox.planned_runs([r for r in rt.registry.for_trigger(claimed.trigger)
                               if r.connection == claimed.connection], event)
    run_ids = store.fetched(claimed.id, worker, jsonio.dumps(entity), planned)
    if run_ids is None:
        return "lost", None
    rt.metrics.add("events_fetched", 1)
    rt.metrics.add("runs_planned", len(run_ids))
    if len(planned) > len(run_ids):  # its recipes already had a run for this occurrence
        rt.metrics.add("runs_deduplicated", len(planned) - len(run_ids))
    if run_ids:
        rt.wake()
    return "done", None

def _fetch_retry(rt: Runtime, worker: str, claimed: ClaimedFetch, error: str, delay: float | None) -> Ended:
    if claimed.attempts >= rt.settings.max_attempts:
        return _fetch_failed(rt, worker, claimed, f"gave up after {claimed.attempts} attempts: {error}")
    if delay is None:
        delay = backoff(claimed.attempts, rt.settings.backoff_base, rt.settings.backoff_cap)
    rt.store.fetch_later(claimed.id, worker, error, time.time() + delay)
    return "retrying", error

def _fetch_paused(rt: Runtime, worker: str, claimed: ClaimedFetch, reason: str) -> Ended:
    """The vendor refused the connection's key: mark it ``needs_new_key`` and park the fetch
    until ``ledgerlink connect NAME`` accepts a new one (:func:`ledgerlink.io.keys.check`)."""
    keys.refused(rt.connections, claimed.connection, reason)
    error = NeedsNewKey(claimed.connection, reason).message
    if not rt.store.pause_fetch(claimed.id, worker, error):
        return "lost", None
    log.warning("event %s on %r waits to be fetched: %s", claimed.event_id, claimed.connection, error)
    rt.metrics.add("fetches_paused", 1)
    return "paused", error

def _fetch_failed(rt: Runtime, worker: str, claimed: ClaimedFetch, error: str) -> Ended:
    log.warning("event %s on %r: its entity could not be fetched: %s", claimed.event_id,
                claimed.connection, error)
    rt.store.fetch_later(claimed.id, worker, error, None)
    rt.metrics.add("fetches_failed", 1)
    return "failed", error

def poll_result(value: Any, connector: str) -> tuple[list[IncomingEvent], Any, list[str]]:
    """What a poll returned, ``(events, new_cursor)`` or ``(events, new_cursor, warnings)``,
    as (events, cursor, warnings). A warning is a sentence; a lone string is one warning.
    Raises PluginError for anything else (the connector is broken: the poll fails)."""
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise PluginError(f"the poll of connector {connector!r} returned {type(value).__name__}, not "
                          f"(events, cursor) or (events, cursor, warnings)")
    events, cursor = value[0], value[1]
    warnings: Any = value[2] if len(value) == 3 else None
    if isinstance(warnings, str):
        warnings = [warnings]
    if warnings is not None and not (isinstance(warnings, (list, tuple))
                                     and all(isinstance(w, str) for w in warnings)):
        raise PluginError(f"the poll of connector {connector!r} returned warnings that are not a list of "
                          f"sentences: {type(warnings).__name__}")
    return list(events), cursor, [w for w in (warnings or ()) if w.strip()]


def poll(rt: Runtime, worker: str, connection_name: str) -> int:
    """Run connection ``connection_name``'s poll if it is due and no other process holds
    it. Returns 1 when this worker polled, else 0. A key connection whose key was refused
    is not polled until a new key is accepted."""
    store = rt.store
    interval = rt.config.poll_seconds(connection_name) or 60.0
    name = poll_name(connection_name)
    if _waits_for_key(rt, connection_name):
        return 0  # the poll's row says why (below); `ledgerlink connect` makes it due again
    taken, cursor = store.claim_poll(name, worker, rt.settings.lease_seconds)
    if not taken:
        return 0
    connector = None
    try:
        connection = rt.connections.connection(connection_name)
        connector = rt.catalog.connectors[connection.connector]
        ctx = ActionContext(connection=connection, idempotency_key="")
        events, new_cursor, warnings = poll_result(
            drive(connector.poll.poll(cursor, ctx), rt.connections.transport(connection_name)), connector.name)
    except Throttled as throttled:
        store.fail_poll(name, worker, f"waiting for a {throttled.reason} slot",
                        time.time() + max(0.0, getattr(throttled, "delay", 1.0)))
        return 1
    except VendorError as exc:
        if exc.kind == "reauth" and connector is not None and connector.oauth is None:  # a key refused
            keys.refused(rt.connections, connection_name, exc.message)
            message = NeedsNewKey(connection_name, exc.message).message
            log.warning("poll of connection %r waits: %s", connection_name, message)
            rt.metrics.add("polls_paused", 1)
            store.fail_poll(name, worker, message, time.time() + interval)
            return 1
        return _poll_failed(rt, worker, connection_name, exc.message, interval)
    except LedgerlinkError as exc:
        return _poll_failed(rt, worker, connection_name, getattr(exc, "message", None) or str(exc), interval)
    events = _storable(rt, connection_name, connector.name, events)
    warnings = _redacted(rt, connection_name, warnings)
    for warning in warnings:
        log.warning("poll of connection %r: %s", connection_name, warning)
    rt.metrics.add("poll_warnings", len(warnings))
    items = rt.inbox.plan_items(connection_name, events)
    results = store.finish_poll(name, worker, connection_name, items, new_cursor, time.time() + interval,
                                warnings=warnings)
    rt.metrics.add("polls_run", 1)
    if results:
        stored = sum(1 for _, new, _ in results if new)
        planned = sum(len(r) for _, _, r in results)
        rt.metrics.add("events_stored", stored)
        rt.metrics.add("events_duplicate", len(results) - stored)
        rt.metrics.add("runs_planned", planned)
        refused = deduplicated(items, results)
        if refused:  # their recipes already had a run for the object these events are about
            rt.metrics.add("runs_deduplicated", refused)
        if planned or rt.inbox.fetch_pending:
            rt.wake()
    return 1

def _waits_for_key(rt: Runtime, connection_name: str) -> bool:
    """True when ``connection_name`` is a key connection whose key the vendor refused."""
    try:
        return keys.waits_for_new_key(rt.connections, connection_name)
    except LedgerlinkError:
        return False  # the poll says why when it runs

def _poll_failed(rt: Runtime, worker: str, connection_name: str, message: str, interval: float) -> int:
    log.warning("poll of connection %r failed; the cursor stays and it is tried again: %s",
                connection_name, message)
    rt.metrics.add("polls_failed", 1)
    rt.store.fail_poll(poll_name(connection_name), worker, message, time.time() + interval)
    return 1

def _redacted(rt: Runtime, connection_name: str, warnings: list[str]) -> list[str]:
    """``warnings`` with the connection's configured secrets blotted out (they are logged and shown)."""
    if not warnings:
        return warnings
    try:
        secrets = [v for v in rt.config.secrets(connection_name, rt.catalog).values() if isinstance(v, str)]
    except LedgerlinkError:
        secrets = []
    return [outbound.redact(w, secrets) for w in warnings]

def _storable(rt: Runtime, connection_name: str, connector: str,
              events: list[IncomingEvent]) -> list[IncomingEvent]:
    """The polled ``events`` that can be stored (see :func:`check_storable`). Any other is
    skipped with a warning: it would fail the poll the same way on every try, so the
    cursor would never move past it, and the events polled with it would never be stored."""
    storable = []
    for event in events:
        try:
            check_storable(connector, event)
        except EventError as exc:
            pointer = exc.details.get("pointer")
            where = f"its payload at {pointer}" if pointer else "its id or trigger"
            log.warning("poll of connection %r: an event is skipped (%s cannot be stored), the "
                        "other events are stored and the cursor moves on: %s", connection_name,
                        where, exc.message)
            rt.metrics.add("events_unstorable", 1)
            continue
        storable.append(event)
    return storable
