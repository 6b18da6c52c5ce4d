"""The Stripe sandbox's memory: objects by type, ids, time, events, lists and expansion.

Every object is kept as the JSON dict Stripe would send (:mod:`.objects`) in creation order.
Ids are Stripe's prefix and 24 characters derived from the seed and a counter, timestamps
the sandbox clock's Unix seconds, so the same seed and the same calls give the same bytes.
Every change records an Event (https://docs.stripe.com/api/events) holding a copy of the
object as it was then, and hands it to the webhook sender when one is configured.

Lists follow https://docs.stripe.com/api/pagination: newest first, ``limit`` 1..100
(default 10), ``starting_after`` / ``ending_before`` cursors, ``has_more``, ``url``;
``created`` filters take an integer or ``gt``/``gte``/``lt``/``lte``. ``expand[]``
(https://docs.stripe.com/api/expanding_objects) replaces an id by its object, through lists
with ``data.…`` and nested with dots, up to four levels deep.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ledgerlink.testing.sandbox import SandboxClock

from . import objects, wire

Obj = dict[str, Any]

#: id prefix -> object type, and the resource name Stripe's 404 message uses
PREFIXES = {"cus": "customer", "in": "invoice", "ii": "invoiceitem", "ch": "charge",
            "pi": "payment_intent", "re": "refund", "dp": "dispute",
            "txn": "balance_transaction", "po": "payout", "cn": "credit_note", "evt": "event",
            "prod": "product"}
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Store:
    """Objects, events and the clock, behind one re-entrant lock."""

    def __init__(self, seed: str, clock: SandboxClock) -> None:
        self.seed = seed
        self.clock = clock
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Obj]] = {kind: {} for kind in PREFIXES.values()}
        self._counter = 0
        #: the HTTP request being served: its id and idempotency key, stamped on events
        self.request: tuple[str | None, str | None] = (None, None)
        #: called with each new event (the webhook sender); None records events only
        self.on_event: Callable[[Obj], None] | None = None
        #: how many events the webhook endpoint has acknowledged, in order (None: no endpoint)
        self.delivered: Callable[[], int] | None = None
        self._event_index: dict[str, int] = {}

    # --- ids and time -------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            digest = hashlib.sha256(f"{self.seed}:{prefix}:{self._counter}".encode()).digest()
        number = int.from_bytes(digest[:18], "big")
        token = "".join(_ALPHABET[(number // 62 ** i) % 62] for i in range(24))
        return f"{prefix}_{token}"

    def now(self) -> int:
        return int(self.clock.wall())

    # --- objects ------------------------------------------------------------------------
    def add(self, obj: Obj) -> Obj:
        with self.lock:
            self.objects[obj["object"]][obj["id"]] = obj
        return obj

    def get(self, kind: str, ident: Any, param: str = "id") -> Obj:
        found = self.objects[kind].get(ident) if isinstance(ident, str) else None
        if found is None:
            raise wire.missing(kind, str(ident), param)
        return found

    def find(self, ident: str) -> Obj | None:
        kind = PREFIXES.get(ident.split("_", 1)[0])
        return self.objects[kind].get(ident) if kind else None

    # --- events -------------------------------------------------------------------------
    def emit(self, kind: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """Record the event ``kind`` about ``obj`` as it is now and send it."""
        with self.lock:
            request_id, key = self.request
            event = objects.event(self.new_id("evt"), self.now(), kind, copy.deepcopy(obj),
                                  copy.deepcopy(previous) if previous is not None else None,
                                  request_id, key, 1 if self.on_event else 0)
            self.add(event)
            if self.on_event is not None:
                self._event_index[event["id"]] = len(self._event_index)
                self.on_event(event)
        return event

    def event_pending(self, event: Obj) -> int:
        """Webhook endpoints that have not yet acknowledged ``event`` (0 or 1)."""
        index = self._event_index.get(event["id"])
        if index is None or self.delivered is None:
            return 0
        return 0 if index < self.delivered() else 1

    def served(self, obj: Obj) -> Obj:
        """``obj`` as served now (an event's ``pending_webhooks`` is live)."""
        if obj["object"] == "event":
            return {**obj, "pending_webhooks": self.event_pending(obj)}
        if obj["object"] == "balance_transaction":
            return {**obj, "status": "available" if obj["available_on"] <= self.now() else "pending"}
        return obj

    # --- lists --------------------------------------------------------------------------
    def page(self, kind: str, params: Mapping[str, Any], url: str,
             keep: Callable[[Obj], bool] = lambda obj: True) -> Obj:
        """One page of ``kind`` (newest first) matching ``keep`` and ``created``."""
        limit = wire.integer(params, "limit", minimum=1, maximum=100, default=10)
        after, before = params.get("starting_after"), params.get("ending_before")
        if after and before:
            raise wire.invalid("You may only specify one of these parameters: ending_before, "
                               "starting_after.", "ending_before")
        created = created_filter(params.get("created"))
        with self.lock:
            items = [obj for obj in reversed(self.objects[kind].values())
                     if created(obj["created"]) and keep(obj)]
            ids = [obj["id"] for obj in items]
            for cursor, name in ((after, "starting_after"), (before, "ending_before")):
                if cursor and cursor not in self.objects[kind]:
                    raise wire.missing(kind, str(cursor), name)
            if after:
                start = ids.index(after) + 1 if after in ids else _position(self, kind, after, items)
                chosen, more = items[start:start + limit], len(items) > start + limit
            elif before:
                end = ids.index(before) if before in ids else _position(self, kind, before, items)
                chosen, more = items[max(0, end - limit):end], end - limit > 0
            else:
                chosen, more = items[:limit], len(items) > limit
            data = [self.served(obj) for obj in chosen]
        return {"object": "list", "data": copy.deepcopy(data), "has_more": more, "url": url}

    # --- expansion ----------------------------------------------------------------------
    def expand(self, obj: Obj, paths: list[str]) -> Obj:
        """``obj`` with each ``expand[]`` path's id replaced by its object."""
        result = copy.deepcopy(obj)
        for path in paths:
            parts = path.split(".")
            if len(parts) > 4:
                raise wire.invalid(f"You cannot expand more than 4 levels of a property: {path}",
                                   "expand")
            self._expand(result, parts, path)
        return result

    def _expand(self, node: Any, parts: list[str], path: str) -> None:
        if not isinstance(node, dict):
            return
        if node.get("object") == "list" and parts[0] == "data":
            for item in node["data"]:
                self._expand(item, parts[1:], path)
            return
        if not parts:
            return
        field = parts[0]
        if field not in node:
            raise wire.invalid(f"This property cannot be expanded ({path}).", "expand")
        value = node[field]
        if isinstance(value, str):
            found = self.find(value)
            if found is None:
                raise wire.invalid(f"This property cannot be expanded ({path}).", "expand")
            node[field] = value = copy.deepcopy(self.served(found))
        self._expand(value, parts[1:], path)


def _position(store: Store, kind: str, cursor: str, items: list[Obj]) -> int:
    """Where an object filtered out of ``items`` would stand (newest first)."""
    order = list(store.objects[kind])
    rank = order.index(cursor)
    return sum(1 for obj in items if order.index(obj["id"]) > rank)


def created_filter(value: Any) -> Callable[[int], bool]:
    """``created`` (an integer, or a hash of ``gt``/``gte``/``lt``/``lte``) as a test."""
    if value is None:
        return lambda created: True
    if isinstance(value, str):
        exact = wire.integer({"created": value}, "created")
        return lambda created: created == exact
    if not isinstance(value, dict):
        raise wire.invalid("Invalid created", "created")
    bounds = {}
    for name, bound in value.items():
        if name not in ("gt", "gte", "lt", "lte"):
            raise wire.invalid(f"Received unknown parameter: created[{name}]", f"created[{name}]",
                               "parameter_unknown")
        bounds[name] = wire.integer({name: bound}, name)
    tests = {"gt": lambda c, b: c > b, "gte": lambda c, b: c >= b,
             "lt": lambda c, b: c < b, "lte": lambda c, b: c <= b}
    return lambda created: all(tests[name](created, bound) for name, bound in bounds.items())


__all__ = ["PREFIXES", "Store", "created_filter"]
