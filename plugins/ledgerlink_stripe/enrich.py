"""Stripe events enriched from Stripe's API: the balance transactions an accountant books.

A webhook tells that an invoice was paid; what reached the Stripe balance (the fee with its
``fee_details``, the net, the ``exchange_rate`` of a converted payment, ``available_on``) is
on the payment's balance transaction (https://docs.stripe.com/api/balance_transactions/object),
which the event does not carry. Each function here is a trigger's ``fetch``: sans-I/O, it
yields the GETs (:mod:`ledgerlink_stripe.api`) and returns the event with top-level keys added
beside Stripe's own, which recipes read as ``$.event.balance_transaction.fee`` and so on:

- ``invoice.paid``: ``balance_transaction``, the invoice's payment's. On the 2023-08-16 shape
  the invoice names its ``charge`` (or ``payment_intent``); on Basil (2025-03-31.basil and
  later) neither exists and the payments are ``invoice_payment`` objects in the invoice's
  ``payments`` (https://docs.stripe.com/api/invoices/object#invoice_object-payments),
  read — when the event does not include them — by retrieving the invoice with
  ``expand[]=payments`` at the event's own ``api_version``. The paid payment marked
  ``is_default``, else the newest paid one, is the payment. Null for an invoice paid out of
  band, for nothing (``amount_paid`` 0) or without a payment.
- ``charge.succeeded``: ``balance_transaction``, the charge's.
- ``charge.refunded``: ``refund``, the refund the event is about, and ``balance_transaction``,
  the refund's. A backfilled event already names its refund. For a delivered one, the
  charge's refunds are listed (``GET /v1/refunds?charge=…&created[lte]=<event created>``,
  newest first, their balance transactions expanded): the refund is the newest one created
  at or before the event whose amount equals the increase of ``amount_refunded`` (the
  event's ``data.previous_attributes.amount_refunded``), or the newest one at all when the
  event does not say the previous amount. Two refunds of the same amount in the same second
  cannot be told apart by Stripe's event: the newer is taken. Null when none is found.
- ``payout.paid``: ``balance_transactions``, every balance transaction the payout paid out
  (``GET /v1/balance_transactions?payout=…``, every page), and ``summary``, their totals by
  type and currency. Stripe lists the payout's own transaction (type ``payout``, minus the
  payout's amount) with them; it is left out, as Stripe's payout reconciliation report
  itemizes a payout by the transactions it settled
  (https://docs.stripe.com/reports/payout-reconciliation), so the net amounts sum to the
  payout's amount. A manual payout cannot be itemized (Stripe filters balance transactions
  by automatic payouts only): both keys are null for it.

``expand[]`` saves a request where it can (a charge with its ``balance_transaction``, the
refunds with theirs). A trigger fetches only on a connection that has an ``api_key``
(:func:`fetch_for`); without one, its events run as delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import replace
from typing import Any

from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.errors import EventError, VendorError

from . import api

Steps = Generator[Request, Response, Any]
Event = Mapping[str, Any]
#: the first API version whose invoices carry payments instead of charge and payment_intent
BASIL = "2025-03-31"


def fetch_for(connection: Connection) -> bool:
    """Whether this connection can enrich its events: only with an ``api_key`` configured.

    The key itself is secret and never reaches a :class:`Connection`; the host tells which
    secret settings are configured (``configured_secrets``, names only)."""
    return "api_key" in connection.configured_secrets


def _object(payload: Event) -> Mapping[str, Any]:
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(obj, Mapping) or not isinstance(obj.get("id"), str):
        raise EventError(f"the Stripe event {payload.get('id')!r} has no data.object with an id to enrich")
    return obj


def _id(value: Any) -> str | None:
    """The id of a field that is an id string or, expanded, the object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _transaction(value: Any, ctx: ActionContext) -> Steps:
    """A ``balance_transaction`` field as the object: as is when expanded, read when an id."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        raise VendorError(f"Stripe answered a balance_transaction that is neither an id nor an "
                          f"object: {type(value).__name__}", kind="retry")
    return api.checked((yield api.get(ctx, "/v1/balance_transactions/{}", value)))


def _charge_transaction(charge: Any, ctx: ActionContext) -> Steps:
    """The balance transaction of a charge (an id, or the object as Stripe expanded it)."""
    if isinstance(charge, Mapping) and "balance_transaction" in charge:
        return (yield from _transaction(charge["balance_transaction"], ctx))
    ident = _id(charge)
    if ident is None:
        return None
    read = api.checked((yield api.get(ctx, "/v1/charges/{}", ident,
                                      params={"expand": ["balance_transaction"]})))
    return (yield from _transaction(read.get("balance_transaction"), ctx))


def _intent_transaction(intent: Any, ctx: ActionContext) -> Steps:
    """The balance transaction of a PaymentIntent's latest charge."""
    ident = _id(intent)
    if ident is None:
        return None
    read = api.checked((yield api.get(ctx, "/v1/payment_intents/{}", ident,
                                      params={"expand": ["latest_charge.balance_transaction"]})))
    latest = read.get("latest_charge")
    return (yield from _charge_transaction(latest, ctx)) if latest else None


def _is_basil(version: Any) -> bool:
    return isinstance(version, str) and version[:10] >= BASIL


def _paid_payment(payments: Any) -> Mapping[str, Any] | None:
    """Of an invoice's ``payments`` list, the ``payment`` of the paid default one, else of the
    newest paid one (Stripe lists them newest first)."""
    data = payments.get("data") if isinstance(payments, Mapping) else None
    paid = [p for p in data or [] if isinstance(p, Mapping) and p.get("status") == "paid"
            and isinstance(p.get("payment"), Mapping)]
    chosen = next((p for p in paid if p.get("is_default")), paid[0] if paid else None)
    return chosen["payment"] if chosen else None


def _invoice_transaction(payload: Event, invoice: Mapping[str, Any], ctx: ActionContext) -> Steps:
    if not invoice.get("amount_paid") or invoice.get("paid_out_of_band"):
        return None
    if "charge" in invoice or "payment_intent" in invoice:  # 2023-08-16 and earlier
        if invoice.get("charge"):
            return (yield from _charge_transaction(invoice["charge"], ctx))
        return (yield from _intent_transaction(invoice.get("payment_intent"), ctx))
    payments = invoice.get("payments")
    if not isinstance(payments, Mapping) or payments.get("has_more"):
        version = payload.get("api_version")
        request = api.get(ctx, "/v1/invoices/{}", invoice["id"], params={"expand": ["payments"]})
        if _is_basil(version):  # read the invoice in the event's own shape
            request = replace(request, headers={**request.headers, "Stripe-Version": str(version)})
        read = api.checked((yield request))
        if "charge" in read or "payment_intent" in read:  # the connection pins an older version
            return (yield from _invoice_transaction(payload, read, ctx))
        payments = read.get("payments")
    payment = _paid_payment(payments)
    if payment is None:
        return None
    if payment.get("type") == "charge":
        return (yield from _charge_transaction(payment.get("charge"), ctx))
    if payment.get("type") == "payment_intent":
        return (yield from _intent_transaction(payment.get("payment_intent"), ctx))
    return None


def invoice_paid(payload: Event, ctx: ActionContext) -> Steps:
    """``invoice.paid`` with ``balance_transaction``."""
    invoice = _object(payload)
    found = yield from _invoice_transaction(payload, invoice, ctx)
    return {**payload, "balance_transaction": found}


def charge_succeeded(payload: Event, ctx: ActionContext) -> Steps:
    """``charge.succeeded`` with ``balance_transaction``."""
    charge = _object(payload)
    # no transaction yet when the event was sent: Stripe may have one now
    found = yield from _charge_transaction(charge if charge.get("balance_transaction") else charge["id"], ctx)
    return {**payload, "balance_transaction": found}


def pick_refund(refunds: list[Any], created: int | None, increase: int | None) -> Mapping[str, Any] | None:
    """The refund a ``charge.refunded`` event is about, of a charge's ``refunds`` (newest
    first): the newest created at or before ``created`` whose amount is ``increase`` (any
    amount when ``increase`` is None)."""
    for refund in sorted((r for r in refunds if isinstance(r, Mapping)),
                         key=lambda r: -int(r.get("created") or 0)):
        if created is not None and int(refund.get("created") or 0) > created:
            continue
        if refund.get("status") in ("failed", "canceled"):
            continue
        if increase is None or refund.get("amount") == increase:
            return refund
    return None


def charge_refunded(payload: Event, ctx: ActionContext) -> Steps:
    """``charge.refunded`` with ``refund`` and its ``balance_transaction``."""
    charge = _object(payload)
    refund = payload.get("refund")
    if not isinstance(refund, Mapping):
        created = payload.get("created") if isinstance(payload.get("created"), int) else None
        previous = (payload.get("data") or {}).get("previous_attributes") or {}
        before, now = previous.get("amount_refunded"), charge.get("amount_refunded")
        increase = now - before if isinstance(before, int) and isinstance(now, int) else None
        params: dict[str, Any] = {"charge": charge["id"], "expand": ["data.balance_transaction"]}
        if created is not None:
            params["created"] = {"lte": created}
        refunds = yield from api.pages(ctx, "/v1/refunds", params)
        refund = pick_refund(refunds, created, increase)
    found = (yield from _transaction(refund.get("balance_transaction"), ctx)) if refund else None
    if refund is not None and found is not None:
        refund = {**refund, "balance_transaction": found["id"]}
    return {**payload, "refund": dict(refund) if refund else None, "balance_transaction": found}


def _integer(txn: Mapping[str, Any], name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise VendorError(f"Stripe answered balance transaction {txn.get('id')!r} with a {name} "
                          f"that is not an integer", kind="retry")
    return value


def _add(rows: dict[tuple[str, str], dict[str, Any]], label: str, key: tuple[str, str],
         txn: Mapping[str, Any]) -> None:
    row = rows.setdefault(key, {label: key[0], "currency": key[1], "count": 0, "amount": 0, "fee": 0, "net": 0})
    row["count"] += 1
    for name in ("amount", "fee", "net"):
        row[name] += _integer(txn, name, txn.get(name))


def summarize(transactions: list[Mapping[str, Any]], currency: str) -> dict[str, Any]:
    """Totals of ``transactions`` (integer minor units): over all; by type and currency
    (``by_type``); by Stripe's ``reporting_category`` and currency (``by_category``, the
    grouping an accountant books by: docs.stripe.com/reports/reporting-categories); and
    their ``fee_details`` by fee type and currency (``fees``: stripe_fee, application_fee,
    tax). Σ ``by_category`` amount − Σ ``fees`` amount = ``net``."""
    by_type: dict[tuple[str, str], dict[str, Any]] = {}
    by_category: dict[tuple[str, str], dict[str, Any]] = {}
    fees: dict[tuple[str, str], dict[str, Any]] = {}
    for txn in transactions:
        money = str(txn.get("currency"))
        _add(by_type, "type", (str(txn.get("type")), money), txn)
        _add(by_category, "reporting_category", (str(txn.get("reporting_category")), money), txn)
        details = txn.get("fee_details")
        if not isinstance(details, list):  # a transaction as listed without it: nothing itemized
            continue
        for detail in details:
            key = (str(detail.get("type")), str(detail.get("currency") or money))
            row = fees.setdefault(key, {"type": key[0], "currency": key[1], "count": 0, "amount": 0})
            row["count"] += 1
            row["amount"] += _integer(txn, "fee_details amount", detail.get("amount"))
        if sum(_integer(txn, "fee_details amount", d.get("amount")) for d in details) != txn.get("fee"):
            raise VendorError(f"Stripe answered balance transaction {txn.get('id')!r} with fee_details "
                              f"that do not add up to its fee", kind="retry")
    rows = by_type.values()
    return {"currency": currency, "count": len(transactions),
            "amount": sum(r["amount"] for r in rows), "fee": sum(r["fee"] for r in rows),
            "net": sum(r["net"] for r in rows), "by_type": [by_type[k] for k in sorted(by_type)],
            "by_category": [by_category[k] for k in sorted(by_category)],
            "fees": [fees[k] for k in sorted(fees)]}


def payout_paid(payload: Event, ctx: ActionContext) -> Steps:
    """``payout.paid`` with ``balance_transactions`` and ``summary``."""
    payout = _object(payload)
    if payout.get("automatic") is False:
        return {**payload, "balance_transactions": None, "summary": None}
    listed = yield from api.pages(ctx, "/v1/balance_transactions", {"payout": payout["id"]})
    own = _id(payout.get("balance_transaction"))
    items = [t for t in listed if isinstance(t, Mapping)
             and not (t.get("type") == "payout" and (t.get("id") == own or _id(t.get("source")) == payout["id"]))]
    return {**payload, "balance_transactions": items,
            "summary": summarize(items, str(payout.get("currency") or ""))}


#: event type -> its trigger's ``fetch``
FETCHES: dict[str, Callable[[Event, ActionContext], Steps]] = {
    "invoice.paid": invoice_paid,
    "charge.succeeded": charge_succeeded,
    "charge.refunded": charge_refunded,
    "payout.paid": payout_paid,
}

__all__ = ["BASIL", "FETCHES", "charge_refunded", "charge_succeeded", "fetch_for", "invoice_paid",
           "payout_paid", "pick_refund", "summarize"]
