"""Stripe's actions: mark an invoice paid, note on an invoice, read an invoice, list balance transactions.

Each is sans-I/O (:mod:`ledgerlink_stripe.api` builds the requests) and reads amounts as
Stripe sends them, integers in the currency's minor unit (``stripe.money`` converts them in
a recipe). Writes carry the step's idempotency key; what each write can undo is said on it.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response
from ledgerlink.contract.problems import Problems, begin, show, text

from . import api
from .customers import RETRIEVE_CUSTOMER
from .products import RETRIEVE_PRODUCT
from .enrich import summarize

Steps = Generator[Request, Response, Any]

INVOICE_ID = re.compile(r"^in_[0-9A-Za-z_]+$")
#: Stripe's metadata limits (docs.stripe.com/api/metadata): keys up to 40 characters without
#: square brackets, values up to 500 characters
METADATA_KEY = re.compile(r"^[^\[\]]{1,40}$")
DEFAULT_NOTE_KEY = "ledgerlink_note"
#: expandable fields a read may ask for (docs.stripe.com/api/expanding_objects): up to 4 levels
EXPAND = re.compile(r"^[a-z_]+(\.[a-z_]+){0,3}$")
#: balance transaction types (docs.stripe.com/api/balance_transactions/object#balance_transaction_object-type)
BALANCE_TYPES = (
    "adjustment", "advance", "advance_funding", "anticipation_repayment", "application_fee",
    "application_fee_refund", "charge", "connect_collection_transfer", "contribution",
    "issuing_authorization_hold", "issuing_authorization_release", "issuing_dispute",
    "issuing_transaction", "obligation_outbound", "obligation_reversal_inbound", "payment",
    "payment_failure_refund", "payment_network_reserve_hold", "payment_network_reserve_release",
    "payment_refund", "payment_reversal", "payment_unreconciled", "payout", "payout_cancel",
    "payout_failure", "refund", "refund_failure", "reserve_transaction", "reserved_funds",
    "stripe_fee", "stripe_fx_fee", "tax_fee", "topup", "topup_reversal", "transfer",
    "transfer_cancel", "transfer_failure", "transfer_refund")


def _d(description: str, **schema: Any) -> dict[str, Any]:
    return {**schema, "description": description}


INVOICE_INPUT = _d("The Stripe invoice's id.", type="string", pattern=INVOICE_ID.pattern)
EXPAND_INPUT = _d("Fields of the answer to expand into objects (Stripe's expand[]), e.g. "
                  "\"payment_intent\" or \"charge.balance_transaction\".",
                  type="array", items={"type": "string", "pattern": EXPAND.pattern}, maxItems=20)

INVOICE_OUTPUT: dict[str, Any] = _d(
    "The invoice as Stripe answers it (every field Stripe sends is kept; amounts are integers "
    "in the currency's minor unit).", type="object", required=["id", "object", "status"],
    properties={
        "id": _d("The invoice's id.", type="string"),
        "object": _d("Always \"invoice\".", const="invoice"),
        "status": _d("draft, open, paid, uncollectible or void.", type=["string", "null"]),
        "currency": _d("Three-letter ISO code, lowercase.", type="string"),
        "amount_due": _d("What was due, in minor units.", type="integer"),
        "amount_paid": _d("What was paid, in minor units.", type="integer"),
        "amount_remaining": _d("What is left to pay, in minor units.", type="integer"),
        "paid_out_of_band": _d("Paid outside Stripe (marked paid).", type="boolean"),
        "metadata": _d("The invoice's metadata.", type=["object", "null"]),
    })

SAMPLE_INVOICE: dict[str, Any] = {
    "id": "in_1NpHiG2eZvKYlo2CeGwtPsKC", "object": "invoice", "status": "paid",
    "currency": "usd", "amount_due": 2000, "amount_paid": 2000, "amount_remaining": 0,
    "paid_out_of_band": True, "metadata": {"ledgerlink_note": "Paid by bank transfer"},
}


def _invoice(data: Mapping[str, Any], problems: Problems) -> str:
    value = data.get("invoice")
    if not isinstance(value, str) or not INVOICE_ID.match(value):
        problems.add("/invoice", f"invoice must be a Stripe invoice id (in_…), got {show(value)}")
        return ""
    return value


def _expand(data: Mapping[str, Any], problems: Problems) -> list[str]:
    value = data.get("expand", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and EXPAND.match(v) for v in value):
        problems.add("/expand", f"expand must be an array of field paths such as \"payment_intent\", got {show(value)}")
        return []
    return list(value)


def _retrieve(ctx: ActionContext, invoice: str, expand: list[str] | None = None) -> Steps:
    """The invoice, read (GET /v1/invoices/{id})."""
    params = {"expand": expand} if expand else None
    return api.checked((yield api.get(ctx, "/v1/invoices/{}", invoice, params=params)))


# --- stripe.mark_invoice_paid --------------------------------------------------------------

PAY_INPUT = _d("The invoice to mark paid.", type="object", required=["invoice"], additionalProperties=False,
               properties={"invoice": INVOICE_INPUT})
PAY_OUTPUT = {**INVOICE_OUTPUT, "properties": {
    **INVOICE_OUTPUT["properties"],
    "already_paid": _d("True when Stripe already held the invoice as paid, so nothing was changed.",
                       type="boolean")}}
CANNOT_UNPAY = ("Stripe cannot un-pay an invoice: a paid invoice is final "
                "(docs.stripe.com/api/invoices/pay, docs.stripe.com/invoicing/overview#invoice-statuses)")


def mark_invoice_paid(data: Mapping[str, Any], ctx: ActionContext) -> Steps:
    """POST /v1/invoices/{id}/pay with ``paid_out_of_band=true``; an invoice Stripe already
    holds as paid is read back and returned (``already_paid``), not an error."""
    problems = begin("stripe.mark_invoice_paid", "a Stripe invoice payment", data, PAY_INPUT["properties"])
    invoice = _invoice(data, problems)
    problems.raise_if_any()
    response = yield api.post(ctx, "/v1/invoices/{}/pay", invoice, params={"paid_out_of_band": True})
    error = api.stripe_classify(response)
    if error is None:
        return {**response.json, "already_paid": False}
    if error.kind != "permanent" or response.status != 400:
        raise error
    current = yield from _retrieve(ctx, invoice)
    if isinstance(current, Mapping) and current.get("status") == "paid":
        return {**current, "already_paid": True}
    raise error


def find_paid(data: Mapping[str, Any], ctx: ActionContext) -> Steps:
    """The invoice when Stripe holds it as paid (what an earlier attempt did), else None."""
    current = yield from _retrieve(ctx, str(data.get("invoice", "")))
    if isinstance(current, Mapping) and current.get("status") == "paid":
        return {**current, "already_paid": True}
    return None


MARK_INVOICE_PAID = Action(
    name="stripe.mark_invoice_paid",
    summary="Marks a Stripe invoice paid outside Stripe (paid_out_of_band), e.g. once the ledger "
            "recorded a bank transfer. An invoice already paid is returned as it is. No undo: "
            + CANNOT_UNPAY + ".",
    input_schema=PAY_INPUT, output_schema=PAY_OUTPUT,
    sample={"invoice": "in_1NpHiG2eZvKYlo2CeGwtPsKC"},
    sample_response=SAMPLE_INVOICE,
    perform=mark_invoice_paid, find_existing=find_paid, undo=None, idempotency="key", entity="invoice")


# --- stripe.add_invoice_note ---------------------------------------------------------------

NOTE_INPUT = _d("The note to keep in the invoice's metadata.", type="object", required=["invoice", "note"],
                additionalProperties=False, properties={
                    "invoice": INVOICE_INPUT,
                    "note": _d("The note, at most 500 characters (Stripe's limit for a metadata value).",
                               type="string", maxLength=500),
                    "key": _d("The metadata key (at most 40 characters, no square brackets); "
                              f"default \"{DEFAULT_NOTE_KEY}\".", type="string", pattern=METADATA_KEY.pattern)})
NOTE_OUTPUT = {**INVOICE_OUTPUT, "properties": {
    **INVOICE_OUTPUT["properties"],
    "previous_note": _d("The key's value before the note was written (null: there was none).",
                        type=["string", "null"])}}
CANNOT_RESTORE = ("ledgerlink's undo is given the invoice's id alone, not the metadata key or the value "
                  "it replaced, and a blind delete would erase a note written since; restore it in "
                  "Stripe from previous_note in the run's output")


def add_invoice_note(data: Mapping[str, Any], ctx: ActionContext) -> Steps:
    """Reads the invoice (for the key's previous value), then POST /v1/invoices/{id} with
    ``metadata[key]=note``: the other metadata keys are left as they are."""
    problems = begin("stripe.add_invoice_note", "a Stripe invoice note", data, NOTE_INPUT["properties"])
    invoice = _invoice(data, problems)
    note = text(data.get("note"), "/note", "note", 500, problems, keeper="Stripe")
    key = data.get("key", DEFAULT_NOTE_KEY)
    if not isinstance(key, str) or not METADATA_KEY.match(key):
        problems.add("/key", f"key must be 1 to 40 characters without square brackets, got {show(key)}")
    problems.raise_if_any()
    current = yield from _retrieve(ctx, invoice)
    before = (current.get("metadata") or {}).get(key) if isinstance(current, Mapping) else None
    written = api.checked((yield api.post(ctx, "/v1/invoices/{}", invoice, params={"metadata": {key: note}})))
    return {**written, "previous_note": before}


def find_note(data: Mapping[str, Any], ctx: ActionContext) -> Steps:
    """The invoice when its metadata already holds this note under this key, else None."""
    current = yield from _retrieve(ctx, str(data.get("invoice", "")))
    key = data.get("key", DEFAULT_NOTE_KEY)
    if isinstance(current, Mapping) and (current.get("metadata") or {}).get(key) == data.get("note"):
        return {**current, "previous_note": None}
    return None


ADD_INVOICE_NOTE = Action(
    name="stripe.add_invoice_note",
    summary="Writes a note into a Stripe invoice's metadata (one key; the others are kept). "
            "No undo: " + CANNOT_RESTORE + ".",
    input_schema=NOTE_INPUT, output_schema=NOTE_OUTPUT,
    sample={"invoice": "in_1NpHiG2eZvKYlo2CeGwtPsKC", "note": "Paid by bank transfer"},
    sample_response=SAMPLE_INVOICE,
    perform=add_invoice_note, find_existing=find_note, undo=None, idempotency="key")


# --- stripe.retrieve_invoice ---------------------------------------------------------------

RETRIEVE_INPUT = _d("The invoice to read.", type="object", required=["invoice"], additionalProperties=False,
                    properties={"invoice": INVOICE_INPUT, "expand": EXPAND_INPUT})


def retrieve_invoice(data: Mapping[str, Any], ctx: ActionContext) -> Steps:
    """GET /v1/invoices/{id}, with ``expand[]`` when asked."""
    problems = begin("stripe.retrieve_invoice", "a Stripe invoice read", data, RETRIEVE_INPUT["properties"])
    invoice = _invoice(data, problems)
    expand = _expand(data, problems)
    problems.raise_if_any()
    return (yield from _retrieve(ctx, invoice, expand))


RETRIEVE_INVOICE = Action(
    name="stripe.retrieve_invoice", summary="Reads a Stripe invoice (optionally expanding fields).",
    input_schema=RETRIEVE_INPUT, output_schema=INVOICE_OUTPUT,
    sample={"invoice": "in_1NpHiG2eZvKYlo2CeGwtPsKC", "expand": ["payment_intent"]},
    sample_response=SAMPLE_INVOICE, perform=retrieve_invoice, idempotency="none")


# --- stripe.list_balance_transactions ------------------------------------------------------

UNIX = {"type": "integer", "minimum": 0}
LIST_INPUT = _d(
    "Which balance transactions to list; every filter is optional and all pages are read.",
    type="object", additionalProperties=False, properties={
        "payout": _d("Only those paid out by this automatic payout (po_…).", type="string", pattern="^po_"),
        "type": _d("Only this type (charge, refund, stripe_fee, payout …).", enum=list(BALANCE_TYPES)),
        "source": _d("Only those of this source (ch_…, re_…, po_…).", type="string", minLength=1),
        "currency": _d("Only this currency (three letters, lowercase).", type="string", pattern="^[a-z]{3}$"),
        "created": _d("Created-time bounds in Unix seconds (Stripe's created[gte] …).", type="object",
                      additionalProperties=False, properties={
                          "gte": _d("At or after.", **UNIX), "gt": _d("After.", **UNIX),
                          "lte": _d("At or before.", **UNIX), "lt": _d("Before.", **UNIX)})})
LIST_OUTPUT = _d("The balance transactions, newest first, as Stripe answers them, and their totals.",
                 type="object", required=["data", "count", "summary"], properties={
                     "data": _d("Each balance transaction (amount, fee, net in minor units; fee_details; "
                                "exchange_rate; available_on; source; type).",
                                type="array", items={"type": "object"}),
                     "count": _d("How many there are.", type="integer"),
                     "summary": _d("Their totals as a payout.paid event's summary has them: amount, fee, "
                                   "net; by_type; by_category (by reporting category); fees (by fee type). "
                                   "Integer minor units.", type="object")})
SAMPLE_BALANCE_TRANSACTION = {
    "id": "txn_1NpHiG2eZvKYlo2C5ytOvWZC", "object": "balance_transaction", "amount": 2000,
    "available_on": 1694649600, "created": 1694044800, "currency": "usd", "description": None,
    "exchange_rate": None, "fee": 88, "fee_details": [{"amount": 88, "application": None, "currency": "usd",
                                                       "description": "Stripe processing fees", "type": "stripe_fee"}],
    "net": 1912, "reporting_category": "charge", "source": "ch_3NpHiG2eZvKYlo2C1dCgHXCY",
    "status": "available", "type": "charge"}


def list_balance_transactions(data: Mapping[str, Any], ctx: ActionContext) -> Steps:
    """GET /v1/balance_transactions with the filters, every page followed."""
    problems = begin("stripe.list_balance_transactions", "a Stripe balance transaction list", data,
                     LIST_INPUT["properties"])
    for name in ("payout", "type", "source", "currency"):
        if name in data and not isinstance(data[name], str):
            problems.add(f"/{name}", f"{name} must be a string, got {show(data[name])}")
    created = data.get("created", {})
    if not isinstance(created, Mapping) or any(
            k not in ("gte", "gt", "lte", "lt") or isinstance(v, bool) or not isinstance(v, int) or v < 0
            for k, v in created.items()):
        problems.add("/created", f"created takes gte, gt, lte, lt as Unix seconds, got {show(created)}")
    problems.raise_if_any()
    params = {name: data[name] for name in ("payout", "type", "source", "currency") if name in data}
    if created:
        params["created"] = dict(created)
    found = yield from api.pages(ctx, "/v1/balance_transactions", params)
    return {"data": found, "count": len(found), "summary": summarize(found, str(data.get("currency") or ""))}


def _sample_list(request: Request) -> Response:
    return Response(200, json={"object": "list", "url": "/v1/balance_transactions", "has_more": False,
                               "data": [SAMPLE_BALANCE_TRANSACTION]})


LIST_BALANCE_TRANSACTIONS = Action(
    name="stripe.list_balance_transactions",
    summary="Lists Stripe balance transactions (amount, fee, net, exchange rate) by payout, type, "
            "source, currency or creation time, all pages.",
    input_schema=LIST_INPUT, output_schema=LIST_OUTPUT,
    sample={"payout": "po_1NpHiG2eZvKYlo2C8E9hVZ3D", "type": "charge", "created": {"gte": 1693526400}},
    sample_response=_sample_list, perform=list_balance_transactions, idempotency="none")

ACTIONS = (MARK_INVOICE_PAID, ADD_INVOICE_NOTE, RETRIEVE_INVOICE, LIST_BALANCE_TRANSACTIONS, RETRIEVE_CUSTOMER,
           RETRIEVE_PRODUCT)

__all__ = ["ACTIONS", "ADD_INVOICE_NOTE", "CANNOT_RESTORE", "CANNOT_UNPAY", "LIST_BALANCE_TRANSACTIONS",
           "MARK_INVOICE_PAID", "RETRIEVE_INVOICE"]
