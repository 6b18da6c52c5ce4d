"""``xero.create_payment``: a payment received against a sales invoice, into a bank account.

``PUT /Payments?summarizeErrors=false`` with the step's ``Idempotency-Key``
(https://developer.xero.com/documentation/api/accounting/payments): ``Invoice.InvoiceID``
(the invoice a ``xero.create_invoice`` step created, or its link), the bank ``Account`` by
code, ``Date``, ``Amount`` in the invoice's currency, and its ``Reference`` (the source
payment's id, e.g. Stripe's ``ch_…``), by which it is found again. A payment of an invoice
outside the base currency carries its own ``CurrencyRate`` (the rate Stripe settled at).
Undo writes ``Status: DELETED`` (a reconciled payment is refused by Xero, with its message).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, answer_decimal
from ledgerlink.contract.problems import begin, date, text
from ledgerlink.contract.writes import CreateSteps, Schemas, create_action

from . import api
from .errors import classify
from .fields import GUID, MONEY, amount_in_xero, code, currency, string as _s
from .undo import status_undo

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a payment of a Xero sales invoice",
    "type": "object",
    "required": ["InvoiceID", "AccountCode", "Date", "Amount", "CurrencyCode", "Reference"],
    "additionalProperties": False,
    "properties": {
        "InvoiceID": _s("The invoice paid (xero.create_invoice's id, or its link).", pattern=GUID),
        "AccountCode": _s("The code of the bank account (or an account enabled for payments) it is paid into.",
                          **{"x-ledgerlink-ref": "PaymentAccount"}),
        "Date": _s("The payment date, YYYY-MM-DD.", format="date"),
        "Amount": {**MONEY, "description": "The amount paid, in the invoice's currency (\"12.50\")."},
        "CurrencyCode": _s("The invoice's currency, ISO 4217 (checks the amount's decimals and the rate rule).",
                           pattern="^[A-Za-z]{3}$"),
        "exchange_rate": {**MONEY, "description": "Base-currency units one unit of CurrencyCode was worth when "
                                                  "paid (Stripe's exchange_rate); required outside the base "
                                                  "currency, sent as Xero's CurrencyRate (its inverse)."},
        "Reference": _s("The source payment's id (e.g. Stripe's ch_…): how the payment is found again.",
                        minLength=1, maxLength=255),
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": _s("The Xero PaymentID."),
        "amount": _s("The amount Xero recorded."),
        "status": _s("The payment's Status in Xero."),
    },
}

SAMPLE = {"InvoiceID": "6a1c4f52-7d7e-4d5b-9a3c-4b1a2f0e9d11", "AccountCode": "090", "Date": "2026-11-30",
          "Amount": "49.00", "CurrencyCode": "USD", "Reference": "ch_3QFzvY2eZvKYlo2C1a2b3c4d"}


@dataclass(frozen=True)
class BuiltPayment:
    body: dict[str, Any]
    total: Decimal


def build(data: Mapping[str, Any], ctx: ActionContext) -> BuiltPayment:
    problems = begin("xero.create_payment", "a Xero payment", data, INPUT_SCHEMA["properties"])
    code_, rate = currency(data, ctx.connection.settings, problems)
    paid = amount_in_xero(data.get("Amount"), code_, "/Amount", "Amount", problems)
    body: dict[str, Any] = {
        "Invoice": {"InvoiceID": str(data.get("InvoiceID", ""))},
        "Account": {"Code": code(data.get("AccountCode"), "/AccountCode", "AccountCode", problems, limit=10)},
        "Date": date(data.get("Date"), "/Date", problems),
        "Amount": paid,
        "Reference": text(data.get("Reference"), "/Reference", "Reference", 255, problems, keeper="Xero"),
    }
    if rate is not None:
        body["CurrencyRate"] = rate
    problems.raise_if_any()
    return BuiltPayment(body=body, total=paid or Decimal(0))


def _output(payment: Mapping[str, Any], built: BuiltPayment) -> dict[str, Any]:
    recorded = answer_decimal(payment.get("Amount"))
    return {"id": str(payment["PaymentID"]), "amount": str(recorded if recorded is not None else built.total),
            "status": str(payment.get("Status") or "AUTHORISED")}


def read(response: Response, built: BuiltPayment) -> dict[str, Any]:
    return _output(api.created(response, "Payments", "payment", "PaymentID"), built)


def lookup(built: BuiltPayment, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    """The payments with the same Reference."""
    request = api.read(ctx, "Payments", where=api.where_all([("Reference", built.body["Reference"])]))
    return api.elements((yield request), "Payments", "payment")


def matches(stored: Mapping[str, Any], built: BuiltPayment, ctx: ActionContext) -> bool:
    """The same invoice, date and amount, not deleted."""
    return (stored.get("Status") != "DELETED"
            and (stored.get("Invoice") or {}).get("InvoiceID") == built.body["Invoice"]["InvoiceID"]
            and str(api.xero_date(stored.get("Date"))) == built.body["Date"]
            and answer_decimal(stored.get("Amount")) == built.total)


SAMPLE_RESPONSE = {"Id": "2b4c6a1e-0000-4000-8000-000000000020", "Status": "OK", "Payments": [{
    "PaymentID": "0d1b2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", "Amount": "49.00", "Status": "AUTHORISED",
    "Reference": SAMPLE["Reference"], "StatusAttributeString": "OK"}]}

ACTION = create_action(
    name="xero.create_payment",
    summary="Records a payment of a Xero sales invoice into a bank account, exactly once.",
    what="a Xero payment",
    lookup_keys="Reference",
    schemas=Schemas(input=INPUT_SCHEMA, output=OUTPUT_SCHEMA, sample=SAMPLE, sample_response=SAMPLE_RESPONSE),
    steps=CreateSteps(build=build,
                      request=lambda built, ctx: api.create(ctx, "Payments", built.body, "xero.create_payment"),
                      classify=classify, read=read, read_stored=_output, lookup=lookup, matches=matches),
    # a payment is deleted with POST /Payments/{id} {"Status": "DELETED"} (schema PaymentDelete)
    undo=status_undo("Payments", "PaymentID", "payment", target=lambda status: "DELETED",
                     body=lambda payment_id, status, read: {"Status": status}),
    # the payment raises its invoice's AmountPaid: Xero's event about that invoice is ours too
    entity="Payment", changes=lambda input, output: [("Invoice", str(input["InvoiceID"]))],
)
