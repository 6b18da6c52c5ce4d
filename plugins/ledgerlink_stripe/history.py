"""Past Stripe occurrences as events, one list page at a time, for ``ledgerlink backfill``.

Stripe keeps events for 30 days (https://docs.stripe.com/api/events); the objects stay. Each
trigger's ``history`` lists the objects its events are about, created between ``since`` and
``until`` (``created[gte]``/``created[lte]``, ``limit=100``, ``starting_after`` the last id
of the page: https://docs.stripe.com/api/pagination), and makes of each occurrence the event
Stripe would have sent for it:

- ``object`` "event", the ``type``, ``created`` = when it happened (an invoice's
  ``status_transitions.paid_at``, a refund's ``created`` …), ``data.object`` = the object
  as listed now, ``api_version`` = the connection's (the version the object is rendered
  at), ``livemode``, ``pending_webhooks`` 0, ``request`` {id: null, idempotency_key: null};
- ``id`` = ``"<type>:<object id>"``, e.g. ``"invoice.paid:in_1"``: stable across listings
  and never a Stripe event id, so backfilling twice stores it once;
- ``charge.refunded``: one event per refund (``GET /v1/refunds``, the charge expanded into
  ``data.object``), id ``"charge.refunded:<refund id>"``, with ``refund`` already set so
  enrichment need not guess which refund it is about.

What is listed, by trigger (objects created in the range, so an invoice created before
``since`` and paid inside it is not listed):

=================================== =======================================================
invoice.paid                        invoices with ``status=paid``
invoice.finalized                   invoices with ``status_transitions.finalized_at``
invoice.voided                      invoices with ``status=void``
invoice.marked_uncollectible        invoices with ``status_transitions.marked_uncollectible_at``
credit_note.created                 credit notes (the 2023-08-16 list takes no ``created``
                                    filter: pages are read newest first until one is older)
charge.succeeded                    charges with ``status=succeeded``
charge.refunded                     refunds that did not fail and were not canceled
charge.dispute.created              disputes
charge.dispute.funds_withdrawn      disputes with a negative balance transaction (its time)
charge.dispute.funds_reinstated     disputes with a positive balance transaction (its time)
charge.dispute.closed               disputes won, lost or closed as an inquiry (the time of
                                    their last balance transaction: Stripe keeps no closing time)
payout.paid / payout.failed         payouts with ``status=paid`` / ``failed`` (at ``arrival_date``)
customer.created                    customers
product.created                     products
=================================== =======================================================

``customer.updated``, ``product.updated`` and ``invoice.payment_failed`` have no history: Stripe keeps only an
object's present state, not each change or failed attempt (those events are their only
record). ``progress`` is how far the page's last (oldest) object's ``created`` has come
from ``until`` back to ``since``, as Stripe lists newest first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, IncomingEvent, Page, Request, Response
from ledgerlink.errors import VendorError

from . import api

Obj = Mapping[str, Any]
#: an object -> its occurrences: (id suffix, when it happened, data.object, more payload keys)
Occurrences = Callable[[Obj], list[tuple[str, int, Obj, dict[str, Any]]]]
DISPUTE_CLOSED = ("won", "lost", "warning_closed")


class Listing:
    """How one trigger's past is listed: the list, its filters and what each object holds."""

    def __init__(self, path: str, occurrences: Occurrences, params: Mapping[str, Any] | None = None,
                 *, created_filter: bool = True) -> None:
        self.path = path
        self.occurrences = occurrences
        self.params = dict(params or {})
        #: whether the list takes ``created[gte]``/``created[lte]`` (else read until older)
        self.created_filter = created_filter


def _created(obj: Obj) -> int:
    value = obj.get("created")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _once(when: Callable[[Obj], Any]) -> Occurrences:
    """One occurrence per object, at ``when(obj)`` (None: the object is not one)."""
    def occurrences(obj: Obj) -> list[tuple[str, int, Obj, dict[str, Any]]]:
        at = when(obj)
        return [] if at is None else [(str(obj["id"]), int(at), obj, {})]
    return occurrences


def _transition(name: str) -> Callable[[Obj], Any]:
    return lambda obj: (obj.get("status_transitions") or {}).get(name)


def _refund(obj: Obj) -> list[tuple[str, int, Obj, dict[str, Any]]]:
    """A refund of a charge (listed with ``expand[]=data.charge``) that did not fail."""
    charge = obj.get("charge")
    if obj.get("status") in ("failed", "canceled") or charge is None:
        return []
    if not isinstance(charge, Mapping):
        raise VendorError(f"Stripe listed refund {obj.get('id')!r} without its charge expanded", kind="retry")
    return [(str(obj["id"]), _created(obj), charge, {"refund": {**obj, "charge": charge.get("id")}})]


def _dispute_transaction(sign: int) -> Callable[[Obj], Any]:
    def when(obj: Obj) -> Any:
        found = [t for t in obj.get("balance_transactions") or []
                 if isinstance(t, Mapping) and isinstance(t.get("amount"), int) and t["amount"] * sign > 0]
        return _created(found[0]) if found else None
    return when


def _dispute_closed(obj: Obj) -> Any:
    if obj.get("status") not in DISPUTE_CLOSED:
        return None
    times = [_created(t) for t in obj.get("balance_transactions") or [] if isinstance(t, Mapping)]
    return max([_created(obj), *times])


_INVOICES = "/v1/invoices"
_DISPUTES = "/v1/disputes"

#: event type -> how its past is listed; the types without history are not here
LISTINGS: dict[str, Listing] = {
    "invoice.paid": Listing(_INVOICES, _once(_transition("paid_at")), {"status": "paid"}),
    "invoice.finalized": Listing(_INVOICES, _once(_transition("finalized_at"))),
    "invoice.voided": Listing(_INVOICES, _once(_transition("voided_at")), {"status": "void"}),
    "invoice.marked_uncollectible": Listing(_INVOICES, _once(_transition("marked_uncollectible_at"))),
    "credit_note.created": Listing("/v1/credit_notes", _once(_created), created_filter=False),
    "charge.succeeded": Listing("/v1/charges", _once(lambda o: _created(o) if o.get("status") == "succeeded" else None)),
    "charge.refunded": Listing("/v1/refunds", _refund, {"expand": ["data.charge"]}),
    "charge.dispute.created": Listing(_DISPUTES, _once(_created)),
    "charge.dispute.funds_withdrawn": Listing(_DISPUTES, _once(_dispute_transaction(-1))),
    "charge.dispute.funds_reinstated": Listing(_DISPUTES, _once(_dispute_transaction(1))),
    "charge.dispute.closed": Listing(_DISPUTES, _once(_dispute_closed)),
    "payout.paid": Listing("/v1/payouts", _once(lambda o: o.get("arrival_date")), {"status": "paid"}),
    "payout.failed": Listing("/v1/payouts", _once(lambda o: o.get("arrival_date")), {"status": "failed"}),
    "customer.created": Listing("/v1/customers", _once(_created)),
    "product.created": Listing("/v1/products", _once(_created)),
}


def event(kind: str, suffix: str, created: int, obj: Obj, extra: Mapping[str, Any],
          ctx: ActionContext) -> IncomingEvent:
    """The event Stripe would have sent for one occurrence, with its stable id."""
    payload = {
        "id": f"{kind}:{suffix}", "object": "event",
        "api_version": api.headers(ctx)["Stripe-Version"], "created": created,
        "data": {"object": dict(obj)}, "livemode": bool(obj.get("livemode", False)),
        "pending_webhooks": 0, "request": {"id": None, "idempotency_key": None}, "type": kind,
        **extra,
    }
    return IncomingEvent(id=payload["id"], trigger=f"stripe.{kind}", payload=payload)


def progress(since: float, until: float, oldest: int) -> float:
    """How far a listing from ``until`` back to ``since`` has come at ``oldest``, 0 to 1."""
    if until <= since:
        return 1.0
    return min(1.0, max(0.0, (until - oldest) / (until - since)))


def history_of(kind: str) -> Callable[[float, float, str | None, ActionContext], Generator[Request, Response, Page]]:
    """The ``history`` of trigger ``stripe.<kind>``: one Page per Stripe list page."""
    listing = LISTINGS[kind]

    def history(since: float, until: float, cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, Page]:
        params: dict[str, Any] = {**listing.params, "limit": api.PAGE_LIMIT}
        if listing.created_filter:
            params["created"] = {"gte": math.ceil(since), "lte": math.floor(until)}
        if cursor is not None:
            params["starting_after"] = cursor
        body = api.checked((yield api.get(ctx, listing.path, params=params)))
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list) or not all(isinstance(o, Mapping) and isinstance(o.get("id"), str)
                                                 for o in data):
            raise VendorError(f"Stripe answered the list {listing.path} without a data array of objects",
                              kind="retry")
        events = []
        for obj in data:
            if not since <= _created(obj) <= until:
                continue
            for suffix, created, about, extra in listing.occurrences(obj):
                events.append(event(kind, suffix, created, about, extra, ctx))
        older = bool(data) and _created(data[-1]) < since
        if not data or not body.get("has_more") or older:
            return Page(events, None, 1.0)
        return Page(events, str(data[-1]["id"]), progress(since, until, _created(data[-1])))

    history.__doc__ = f"The past occurrences of stripe.{kind}, one page of Stripe's list at a time."
    return history


__all__ = ["LISTINGS", "Listing", "event", "history_of", "progress"]
