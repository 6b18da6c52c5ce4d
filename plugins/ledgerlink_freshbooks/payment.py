"""``freshbooks.create_payment``: a payment against an invoice ledgerlink created.

A payment (https://www.freshbooks.com/api/payments) is ``POST …/payments/payments`` with
``{"payment": {"invoiceid", "amount": {"amount": "10.00", "code": "USD"}, "date", "type"}}``;
its currency is the invoice's (FreshBooks refuses another ``code``), and it moves the
invoice's paid and outstanding amounts and its status.

The invoice is named by its FreshBooks id, or by the source invoice's id (Stripe's ``in_…``):
then the invoice ``freshbooks.create_invoice`` linked to it is the one, with no request; none
linked is an input problem, never a guess.

The source's id (Stripe's ``ch_…`` or ``py_…``) is kept in the payment's ``note`` (a line
``ledgerlink source <id>``; FreshBooks shows it to the business, not on the client's
invoice): a lost answer is found among the invoice's payments (``search[invoiceid]``). Undo
deletes the payment (``vis_state`` 1), which FreshBooks answers by reopening the invoice.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import (Action, ActionContext, CreateSteps, Request, Response, find_created,
                                 linked_target, perform_create)
from ledgerlink.contract.problems import begin, date, text
from ledgerlink.errors import InputError

from . import api, records
from .errors import classify
from .fields import currency, money_in, positive_id
from .invoice import TARGET_TYPE as INVOICE
from .references import ref

ACTION_NAME = "freshbooks.create_payment"
#: the link a run keeps: the action's own name, so `ledgerlink runs undo` deletes what it made
TARGET_TYPE = ACTION_NAME
PATH = "payments/payments"
KIND = "payment"
#: the payment types FreshBooks takes (https://www.freshbooks.com/api/payments)
TYPES = ("Check", "Credit", "Credit Card", "Bank Transfer", "Debit", "PayPal", "2Checkout", "VISA", "MASTERCARD",
         "DISCOVER", "NOVA", "AMEX", "DINERS", "EUROCARD", "JCB", "ACH", "Cash", "Other")

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a FreshBooks payment",
    "type": "object",
    "required": ["source_id", "amount", "currency_code", "date"],
    "oneOf": [{"required": ["invoiceid"]}, {"required": ["invoice_source_id"]}],
    "additionalProperties": False,
    "properties": {
        "source_id": records.SOURCE_ID,
        "invoiceid": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, **ref("invoice"),
                      "description": "The FreshBooks invoice paid (create_invoice's id); or invoice_source_id."},
        "invoice_source_id": {"type": "string", "minLength": 1,
                              "description": "The source invoice's id (Stripe's in_…): the FreshBooks invoice "
                                             "create_invoice linked to it is paid."},
        "amount": {"type": ["string", "number"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                   "description": "The amount paid, a decimal string with at most the currency's decimals."},
        "currency_code": {"type": "string", "pattern": "^[A-Z]{3}$",
                          "description": "The payment's currency, ISO 4217: the invoice's (FreshBooks refuses "
                                         "another)."},
        "date": {"type": "string", "format": "date", "description": "When it was paid, YYYY-MM-DD."},
        "type": {"enum": list(TYPES), "default": "Credit Card",
                 "description": "How it was paid, one of FreshBooks' payment types (default Credit Card)."},
        "note": {"type": "string", "maxLength": 1000,
                 "description": "A note for the business; the source id's line is added to it."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id", "link"],
    "properties": {
        "id": {"type": "string", "description": "The FreshBooks payment id."},
        "invoiceid": {"type": "string", "description": "The invoice it pays."},
        "amount": {"type": "string", "description": "The amount FreshBooks recorded."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this payment."},
    },
}

SAMPLE = {"source_id": "ch_3NmPlK2eZvKYlo2C0x1Yw8Qh", "invoiceid": "987654",
          "amount": "107.79", "currency_code": "USD", "date": "2026-11-30", "type": "Credit Card"}


def build(data: Mapping[str, Any], ctx: ActionContext) -> records.Sourced:
    """The payment's body (``data`` with its invoiceid resolved); every problem at once."""
    problems = begin(ACTION_NAME, "a FreshBooks payment", data, INPUT_SCHEMA["properties"])
    source = text(data.get("source_id"), "/source_id", "source_id", records.MAX_SOURCE_ID, problems,
                  keeper="ledgerlink")
    invoice = positive_id(data.get("invoiceid"), "/invoiceid", problems)
    code = currency(data.get("currency_code"), problems)
    paid = money_in(data.get("amount"), code, "/amount", "amount", problems)
    day = date(data.get("date"), "/date", problems)
    kind = data.get("type", "Credit Card")
    if kind not in TYPES:
        problems.add("/type", f"must be one of FreshBooks' payment types ({', '.join(TYPES)}), got {kind!r}")
    note = text(data.get("note", ""), "/note", "note", 1000, problems, keeper="FreshBooks")
    problems.raise_if_any()
    mark = api.mark(str(source))
    body = {"invoiceid": invoice, "amount": api.money(paid, code), "date": day, "type": kind,
            "note": f"{note}\n{mark}" if note else mark}
    return records.Sourced(body=body, total=paid, source=str(source))


def _output(entity: Mapping[str, Any], built: records.Sourced) -> dict[str, Any]:
    money = api.read_money(entity.get("amount"))
    return records.output(entity, built.source, TARGET_TYPE, invoiceid=str(entity.get("invoiceid")),
                          amount=f"{money[0]:f}" if money else f"{built.total:f}")


def _lookup(built: records.Sourced, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    return (yield from records.listed(ctx, PATH, "payments", {"invoiceid": str(built.body["invoiceid"])}))


STEPS = CreateSteps(
    build=build,
    request=lambda built, ctx: api.create(ctx, PATH, KIND, built.body),
    classify=classify,
    read=lambda response, built: _output(api.written(response, KIND), built),
    read_stored=_output,
    lookup=_lookup,
    matches=lambda stored, built, ctx: (api.marked(stored.get("note"), built.source)
                                        and stored.get("date") == built.body["date"]),
)


def resolved(data: Mapping[str, Any]) -> Generator[Any, Response, dict[str, Any]]:
    """``data`` with the invoice named by its FreshBooks id (from the links table when the
    input names the source invoice)."""
    if "invoice_source_id" not in data or "invoiceid" in data:
        return dict(data)
    source = data["invoice_source_id"]
    target = (yield from linked_target(str(source), INVOICE)) if isinstance(source, str) and source else None
    if not target:
        raise InputError(f"{ACTION_NAME}: /invoice_source_id: no FreshBooks invoice is linked to {source!r}; "
                         f"create it first (freshbooks.create_invoice links it) or give invoiceid")
    return {key: value for key, value in data.items() if key != "invoice_source_id"} | {"invoiceid": target}


def create_payment(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """Pay the invoice: one create, the source id in the payment's note."""
    return (yield from perform_create(STEPS, (yield from resolved(data)), ctx))


def find_existing(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any] | None]:
    """The payment this step made, among the invoice's payments (read-only)."""
    return (yield from find_created(STEPS, (yield from resolved(data)), ctx))


def paid_invoice(data: Mapping[str, Any], output: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The invoice a payment recorded changes (its outstanding and status): FreshBooks' event
    about that invoice is ledgerlink's echo too."""
    invoice = output.get("invoiceid")
    return [("invoice", str(invoice))] if invoice not in (None, "", "None") else []


def _sample_response(request: Request) -> Response:
    return Response(status=200, json={"response": {"result": {"payment": {
        "id": 235435, "invoiceid": 987654, "amount": {"amount": "107.79", "code": "USD"}, "date": "2026-11-30",
        "type": "Credit Card", "note": api.mark(SAMPLE["source_id"]), "vis_state": 0}}}})


CREATE_PAYMENT = Action(
    name=ACTION_NAME,
    summary="Records a payment against a FreshBooks invoice (by id, or the one linked to the source invoice), "
            "once per source payment.",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE, perform=create_payment,
    sample_response=_sample_response, idempotency="lookup", find_existing=find_existing,
    undo=records.soft_delete(PATH, KIND), entity="payment", changes=paid_invoice)
