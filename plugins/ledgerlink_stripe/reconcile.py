"""Stripe as the source side of ``ledgerlink reconcile``: what a ledger books, of a period.

The objects the booking recipes turn into entries, each listed through Stripe's list API a
page at a time and read as neutral :class:`~ledgerlink.contract.Record` s:

- the invoices paid (``amount_paid``, dated by ``status_transitions.paid_at``);
- the charges that succeeded without an invoice (an invoice's charge is booked with its
  invoice; dated by ``created``);
- the refunds (``/v1/refunds``, their balance transactions expanded) that succeeded or are
  pending (a pending refund has already left the balance, and its ``charge.refunded``
  recipe books it), dated by ``created``, kind ``refund``, their charge as
  :attr:`~ledgerlink.contract.Record.parent`, their amount what their balance transaction
  took from the balance (the settlement currency, as the recipes book it; the refund's own
  amount, in its label, when converted);
- the disputes (``/v1/disputes``) by their balance transactions, kind ``dispute``, each
  known by its ``txn_`` id and dated by it, its entity Stripe's reporting category: the
  funds withdrawn (negative, ``dispute``), what ``charge.dispute.funds_withdrawn`` books
  whatever the outcome, and a won dispute's funds reinstated (positive,
  ``dispute_reversal``), what ``charge.dispute.funds_reinstated`` books. A lost dispute has
  the withdrawal alone; an inquiry that withdrew nothing lists nothing. Not the dispute's
  ``dp_`` id: both events' runs link it, so it cannot tell which of the two was booked.
  Amounts are the transactions' (settlement currency), positive; the charge is the parent;
- the payouts paid (dated by ``arrival_date``).

Dates are UTC days. Its balance, for the clearing account's check, is
:mod:`.balance`'s. A list is asked from some days before the period (a payout arrives days
after it is created; a dispute is decided weeks after it is opened) and each object kept
when its own date falls in the period.
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
from .enrich import pick_refund
from .money import to_major

Obj = Mapping[str, Any]
#: what may be created before the day it is dated (a payout's arrival), in days
LEAD_DAYS = 10
#: how long before its funds are reinstated a dispute may be opened, in days (a cardholder's
#: bank decides within 75 days of the evidence, https://docs.stripe.com/disputes/how-disputes-work)
DISPUTE_LEAD_DAYS = 120


def _day(seconds: Any) -> str | None:
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date().isoformat()


def _invoice(obj: Obj) -> list[Record]:
    paid = _day((obj.get("status_transitions") or {}).get("paid_at"))
    if obj.get("status") != "paid" or paid is None:
        return []
    return [Record(kind="invoice", id=str(obj["id"]), amount=int(obj.get("amount_paid") or 0),
                  currency=str(obj.get("currency", "")).upper(), date=paid, entity="invoice",
                  label=str(obj.get("number") or ""))]


def _charge(obj: Obj) -> list[Record]:
    if obj.get("status") != "succeeded" or obj.get("invoice") or _day(obj.get("created")) is None:
        return []
    return [Record(kind="payment", id=str(obj["id"]), amount=int(obj.get("amount") or 0),
                   currency=str(obj.get("currency", "")).upper(), date=str(_day(obj.get("created"))),
                   entity="charge", label=str(obj.get("description") or ""))]


def _parent(obj: Obj) -> str | None:
    """The id of the charge a refund or a dispute names (expanded or not)."""
    charge = obj.get("charge")
    ident = charge.get("id") if isinstance(charge, Mapping) else charge
    return ident if isinstance(ident, str) else None


def _refund(obj: Obj) -> list[Record]:
    created = _day(obj.get("created"))
    if obj.get("status") not in ("succeeded", "pending") or created is None:
        return []
    charge = _parent(obj)
    amount, currency = int(obj.get("amount") or 0), str(obj.get("currency", "")).upper()
    label = f"refund of {charge}" if charge else "refund"
    txn = obj.get("balance_transaction")
    if isinstance(txn, Mapping) and isinstance(txn.get("amount"), int) and txn.get("currency"):
        if str(txn["currency"]).upper() != currency:
            label += f", {to_major(amount, currency)} {currency}"
        amount, currency = abs(txn["amount"]), str(txn["currency"]).upper()
    return [Record(kind="refund", id=str(obj["id"]), amount=amount, currency=currency, date=created,
                   entity="refund", label=label, parent=charge)]


def _dispute(obj: Obj) -> list[Record]:
    """The dispute's balance transactions: its funds withdrawn and, if won, reinstated."""
    found: list[Record] = []
    charge = _parent(obj)
    for txn in obj.get("balance_transactions") or []:
        if not isinstance(txn, Mapping) or not isinstance(txn.get("amount"), int) or not txn["amount"]:
            continue
        created = _day(txn.get("created"))
        if created is None or not isinstance(txn.get("id"), str):
            continue
        withdrawn = txn["amount"] < 0
        found.append(Record(
            kind="dispute", id=str(txn["id"]), amount=abs(txn["amount"]),
            currency=str(txn.get("currency", "")).upper(), date=created,
            entity="dispute" if withdrawn else "dispute_reversal",
            label=(f"dispute {obj['id']} of {charge}: funds withdrawn" if withdrawn
                   else f"dispute {obj['id']} won: funds reinstated"), parent=charge))
    return found


def _payout(obj: Obj) -> list[Record]:
    arrival = _day(obj.get("arrival_date"))
    if obj.get("status") != "paid" or arrival is None:
        return []
    return [Record(kind="payout", id=str(obj["id"]), amount=int(obj.get("amount") or 0),
                   currency=str(obj.get("currency", "")).upper(), date=arrival, entity="payout")]


#: the lists read, in order: path, parameters, days asked before the period, how an object
#: becomes records
LISTS: tuple[tuple[str, Mapping[str, Any], int, Callable[[Obj], list[Record]]], ...] = (
    ("/v1/invoices", {"status": "paid"}, LEAD_DAYS, _invoice),
    ("/v1/charges", {}, LEAD_DAYS, _charge),
    ("/v1/refunds", {"expand": ["data.balance_transaction"]}, LEAD_DAYS, _refund),
    ("/v1/disputes", {}, DISPUTE_LEAD_DAYS, _dispute),
    ("/v1/payouts", {"status": "paid"}, LEAD_DAYS, _payout),
)


def _seconds(day: str, days: int = 0) -> int:
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.timezone.utc)
    return int((start + dt.timedelta(days=days)).timestamp())


def records(since: str, until: str, cursor: str | None,
            ctx: ActionContext) -> Generator[Request, Response, Listing]:
    """One page of one list; the cursor is ``index:starting_after`` (empty: its first page)."""
    index, after = (cursor.split(":", 1) if cursor else ("0", ""))
    path, params, lead, read = LISTS[int(index)]
    asked: dict[str, Any] = {**params, "limit": api.PAGE_LIMIT,
                             "created": {"gte": _seconds(since, -lead), "lt": _seconds(until, 1)}}
    if after:
        asked["starting_after"] = after
    body = api.checked((yield api.get(ctx, path, params=asked)))
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list) or not all(isinstance(o, Mapping) and isinstance(o.get("id"), str) for o in data):
        raise VendorError(f"Stripe answered the list {path} without a data array of objects", kind="retry")
    found = [r for obj in data for r in read(obj) if since <= r.date <= until]
    if data and body.get("has_more"):
        return Listing(found, f"{index}:{data[-1]['id']}")
    following = int(index) + 1
    return Listing(found, f"{following}:" if following < len(LISTS) else None)


#: the triggers whose object is what their runs book (a refund's or a dispute's object is a
#: charge its run does not book as a sale)
BOOKS_ITS_OBJECT = ("stripe.invoice.paid", "stripe.charge.succeeded", "stripe.payout.paid")
#: the dispute events whose runs book one of its balance transactions: withdrawn (-1) or back (+1)
DISPUTE_MOVES = {"stripe.charge.dispute.funds_withdrawn": -1, "stripe.charge.dispute.funds_reinstated": 1}


def _object(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    data = payload.get("data")
    found = data.get("object") if isinstance(data, Mapping) else None
    return found if isinstance(found, Mapping) else None


def _refunded(payload: Mapping[str, Any], charge: Mapping[str, Any]) -> str | None:
    """The refund a ``charge.refunded`` event is about: the one enrichment (or backfill) put
    beside the charge, else the one of the charge's own ``refunds`` (API versions before
    2022-11-15 include them) whose amount is the rise of ``amount_refunded``; None when the
    event does not tell (two refunds of one charge are two events, each about its own)."""
    refund = payload.get("refund")
    if isinstance(refund, Mapping) and isinstance(refund.get("id"), str):
        return str(refund["id"])
    listed = charge.get("refunds")
    refunds = listed.get("data") if isinstance(listed, Mapping) else None
    if not isinstance(refunds, list):
        return None
    previous = (payload.get("data") or {}).get("previous_attributes") or {}
    before, now = previous.get("amount_refunded"), charge.get("amount_refunded")
    increase = now - before if isinstance(before, int) and isinstance(now, int) else None
    created = payload.get("created")
    found = pick_refund(refunds, created if isinstance(created, int) else None, increase)
    return str(found["id"]) if found is not None and isinstance(found.get("id"), str) else None


def _moved(dispute: Mapping[str, Any], sign: int) -> str | None:
    """The balance transaction that took a dispute's funds (``sign`` -1: the first negative)
    or gave them back (+1: the newest positive)."""
    found = [t for t in dispute.get("balance_transactions") or []
             if isinstance(t, Mapping) and isinstance(t.get("amount"), int) and t["amount"] * sign > 0
             and isinstance(t.get("id"), str)]
    return str(found[0 if sign < 0 else -1]["id"]) if found else None


def subject(trigger: str, payload: Mapping[str, Any]) -> str | None:
    """The id of what an event of ``trigger`` is about, as :func:`records` lists it: the
    invoice, charge or payout the event's object is; the refund of ``charge.refunded`` (its
    object is the refunded charge); the balance transaction of a dispute's funds withdrawn or
    reinstated (its object is the dispute, which both events name)."""
    found = _object(payload)
    if found is None:
        return None
    if trigger == "stripe.charge.refunded":
        return _refunded(payload, found)
    if trigger in DISPUTE_MOVES:
        return _moved(found, DISPUTE_MOVES[trigger])
    if trigger not in BOOKS_ITS_OBJECT:
        return None
    ident = found.get("id")
    return ident if isinstance(ident, str) else None


RECONCILE = Reconcile(records=records, kinds=("invoice", "payment", "refund", "dispute", "payout"),
                      subject=subject, balance=balance,
                      readable=lambda connection: "api_key" in connection.configured_secrets)
