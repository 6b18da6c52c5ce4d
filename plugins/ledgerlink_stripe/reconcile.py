"""Stripe as the source side of ``ledgerlink reconcile``: what a ledger books, of a period.

The objects the booking recipes turn into entries, each listed through Stripe's list API a
page at a time and read as a neutral :class:`~ledgerlink.contract.Record`: the invoices paid
(``amount_paid``, dated by ``status_transitions.paid_at``), the charges that succeeded
without an invoice (an invoice's charge is booked with its invoice; dated by ``created``) and
the payouts paid (dated by ``arrival_date``). Dates are UTC days. Its balance, for the
clearing account's check, is :mod:`.balance`'s. A list is asked from ten
days before the period (a payout arrives days after it is created) and each object kept when
its own date falls in the period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.contract.reconcile import Listing, Reconcile, Record
from ledgerlink.errors import VendorError

from . import api
from .balance import balance

Obj = Mapping[str, Any]
#: what may be created before the day it is dated (a payout's arrival), in days
LEAD_DAYS = 10


def _day(seconds: Any) -> str | None:
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date().isoformat()


def _invoice(obj: Obj) -> Record | None:
    paid = _day((obj.get("status_transitions") or {}).get("paid_at"))
    if obj.get("status") != "paid" or paid is None:
        return None
    return Record(kind="invoice", id=str(obj["id"]), amount=int(obj.get("amount_paid") or 0),
                  currency=str(obj.get("currency", "")).upper(), date=paid, entity="invoice",
                  label=str(obj.get("number") or ""))


def _charge(obj: Obj) -> Record | None:
    if obj.get("status") != "succeeded" or obj.get("invoice") or _day(obj.get("created")) is None:
        return None
    return Record(kind="payment", id=str(obj["id"]), amount=int(obj.get("amount") or 0),
                  currency=str(obj.get("currency", "")).upper(), date=str(_day(obj.get("created"))),
                  entity="charge", label=str(obj.get("description") or ""))


def _payout(obj: Obj) -> Record | None:
    arrival = _day(obj.get("arrival_date"))
    if obj.get("status") != "paid" or arrival is None:
        return None
    return Record(kind="payout", id=str(obj["id"]), amount=int(obj.get("amount") or 0),
                  currency=str(obj.get("currency", "")).upper(), date=arrival, entity="payout")


#: the lists read, in order: path, parameters, how an object becomes a record
LISTS: tuple[tuple[str, Mapping[str, Any], Callable[[Obj], Record | None]], ...] = (
    ("/v1/invoices", {"status": "paid"}, _invoice),
    ("/v1/charges", {}, _charge),
    ("/v1/payouts", {"status": "paid"}, _payout),
)


def _seconds(day: str, days: int = 0) -> int:
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.timezone.utc)
    return int((start + dt.timedelta(days=days)).timestamp())


def records(since: str, until: str, cursor: str | None,
            ctx: ActionContext) -> Generator[Request, Response, Listing]:
    """One page of one list; the cursor is ``index:starting_after`` (empty: its first page)."""
    index, after = (cursor.split(":", 1) if cursor else ("0", ""))
    path, params, read = LISTS[int(index)]
    asked: dict[str, Any] = {**params, "limit": api.PAGE_LIMIT,
                             "created": {"gte": _seconds(since, -LEAD_DAYS), "lt": _seconds(until, 1)}}
    if after:
        asked["starting_after"] = after
    body = api.checked((yield api.get(ctx, path, params=asked)))
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list) or not all(isinstance(o, Mapping) and isinstance(o.get("id"), str) for o in data):
        raise VendorError(f"Stripe answered the list {path} without a data array of objects", kind="retry")
    found = [r for r in (read(obj) for obj in data) if r is not None and since <= r.date <= until]
    if data and body.get("has_more"):
        return Listing(found, f"{index}:{data[-1]['id']}")
    following = int(index) + 1
    return Listing(found, f"{following}:" if following < len(LISTS) else None)


#: the triggers whose object is what their runs book (a refund's or a dispute's object is a
#: charge its run does not book as a sale)
BOOKS_ITS_OBJECT = ("stripe.invoice.paid", "stripe.charge.succeeded", "stripe.payout.paid")


def subject(trigger: str, payload: Mapping[str, Any]) -> str | None:
    """The id of the invoice, charge or payout an event of ``trigger`` is about."""
    if trigger not in BOOKS_ITS_OBJECT:
        return None
    data = payload.get("data")
    found = data.get("object") if isinstance(data, Mapping) else None
    ident = found.get("id") if isinstance(found, Mapping) else None
    return ident if isinstance(ident, str) else None


RECONCILE = Reconcile(records=records, kinds=("invoice", "payment", "payout"), subject=subject, balance=balance,
                      readable=lambda connection: "api_key" in connection.configured_secrets)
