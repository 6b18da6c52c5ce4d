"""``xero.create_invoice``: a sales invoice (``ACCREC``), exactly once.

``PUT /Invoices?summarizeErrors=false&unitdp=4`` with the step's ``Idempotency-Key``
(https://developer.xero.com/documentation/api/accounting/invoices). The invoice is found
again — when an answer was lost after Xero's ~6-minute key expired — by its ``Reference``
(the source document's id, e.g. Stripe's ``in_…``) among the ACCREC invoices of its
contact, matched on date, currency and line amounts. It is linked to that reference, so a
payment step can name the source id instead of Xero's InvoiceID. Undo deletes a draft or
submitted invoice and voids an authorised one (Xero's ``Status`` ``DELETED`` / ``VOIDED``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, answer_decimal, total
from ledgerlink.contract.problems import begin, date, text
from ledgerlink.contract.writes import CreateSteps, Schemas, create_action

from . import api
from .errors import classify
from .fields import GUID, MONEY, currency, line_items, line_schema, string as _s
from .undo import status_undo

TARGET_TYPE = "xero.invoice"
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a Xero sales invoice (ACCREC)",
    "type": "object",
    "required": ["ContactID", "Date", "Reference", "CurrencyCode", "LineItems"],
    "additionalProperties": False,
    "properties": {
        "ContactID": _s("The Xero contact billed (xero.find_or_create_contact's id).", pattern=GUID),
        "Date": _s("The invoice date, YYYY-MM-DD.", format="date"),
        "DueDate": _s("The due date, YYYY-MM-DD (default: the contact's or organisation's terms).", format="date"),
        "Reference": _s("The source document's id (e.g. Stripe's in_…): how the invoice is found again and "
                        "linked; at most 255 characters.", minLength=1, maxLength=255),
        "InvoiceNumber": _s("The invoice number (unique among sales invoices; default: Xero's next number).",
                            maxLength=255),
        "CurrencyCode": _s("ISO 4217 currency of the invoice.", pattern="^[A-Za-z]{3}$"),
        "exchange_rate": {**MONEY, "description": "Base-currency units one unit of CurrencyCode is worth "
                                                  "(Stripe's balance transaction exchange_rate); required "
                                                  "outside the base currency, sent as Xero's CurrencyRate "
                                                  "(its inverse)."},
        "LineAmountTypes": {"enum": list(LINE_AMOUNT_TYPES),
                            "description": "Whether unit amounts exclude tax (Exclusive, Xero's default), "
                                           "include it (Inclusive) or carry none (NoTax)."},
        "Status": {"enum": list(STATUSES), "description": "DRAFT, SUBMITTED or AUTHORISED (default: AUTHORISED, "
                                                          "so payments can be applied)."},
        "LineItems": {"type": "array", "minItems": 1, "description": "The invoice lines.",
                      "items": line_schema("revenue")},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": _s("The Xero InvoiceID."),
        "number": _s("The invoice number Xero gave or kept."),
        "status": _s("The invoice's Status in Xero."),
        "total": _s("The invoice's Total (tax included), as Xero answered it."),
        "link": {"type": "object", "description": "What ledgerlink links: the Reference ↔ this invoice."},
    },
}

SAMPLE = {"ContactID": "bd2270c3-8706-4c11-9cfb-000b551c3f51", "Date": "2026-11-30", "DueDate": "2026-12-14",
          "Reference": "in_1QFzvY2eZvKYlo2C", "CurrencyCode": "USD", "LineAmountTypes": "NoTax",
          "LineItems": [{"Description": "Pro plan, November", "Quantity": "1", "UnitAmount": "49.00",
                         "AccountCode": "200"}]}


@dataclass(frozen=True)
class BuiltInvoice:
    body: dict[str, Any]
    total: Decimal


def build(data: Mapping[str, Any], ctx: ActionContext) -> BuiltInvoice:
    """The ACCREC invoice; every input problem raises (with its JSON pointer) before a request."""
    problems = begin("xero.create_invoice", "a Xero invoice", data, INPUT_SCHEMA["properties"])
    body: dict[str, Any] = {"Type": "ACCREC", "Contact": {"ContactID": str(data.get("ContactID", ""))}}
    body["Date"] = date(data.get("Date"), "/Date", problems)
    if "DueDate" in data:
        body["DueDate"] = date(data.get("DueDate"), "/DueDate", problems)
    body["Reference"] = text(data.get("Reference"), "/Reference", "Reference", 255, problems, keeper="Xero")
    if data.get("InvoiceNumber"):
        body["InvoiceNumber"] = text(data["InvoiceNumber"], "/InvoiceNumber", "InvoiceNumber", 255, problems,
                                     keeper="Xero")
    code_, rate = currency(data, ctx.connection.settings, problems)
    body["CurrencyCode"] = code_
    if rate is not None:
        body["CurrencyRate"] = rate
    body["LineAmountTypes"] = data.get("LineAmountTypes", "Exclusive")
    if body["LineAmountTypes"] not in LINE_AMOUNT_TYPES:
        problems.add("/LineAmountTypes", f"must be one of {', '.join(LINE_AMOUNT_TYPES)}")
    body["Status"] = data.get("Status", "AUTHORISED")
    if body["Status"] not in STATUSES:
        problems.add("/Status", f"must be one of {', '.join(STATUSES)}")
    body["LineItems"], amounts = line_items(data.get("LineItems"), code_, problems, "invoice lines")
    problems.raise_if_any()
    return BuiltInvoice(body=body, total=total(amounts))


def _output(invoice: Mapping[str, Any], built: BuiltInvoice) -> dict[str, Any]:
    return {"id": str(invoice["InvoiceID"]), "number": str(invoice.get("InvoiceNumber") or ""),
            "status": str(invoice.get("Status") or built.body["Status"]),
            "total": str(answer_decimal(invoice.get("Total")) if invoice.get("Total") is not None else built.total),
            "link": {"source_id": built.body["Reference"], "target_type": TARGET_TYPE}}


def read(response: Response, built: BuiltInvoice) -> dict[str, Any]:
    return _output(api.created(response, "Invoices", "invoice", "InvoiceID"), built)


def lookup(built: BuiltInvoice, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    """The contact's sales invoices with the same Reference (page=1: Xero lists line items only on pages)."""
    where = api.where_all([("Type", "ACCREC"), ("Reference", built.body["Reference"])])
    request = api.read(ctx, "Invoices", where=where, ContactIDs=built.body["Contact"]["ContactID"], page="1")
    return api.elements((yield request), "Invoices", "invoice")


def matches(stored: Mapping[str, Any], built: BuiltInvoice, ctx: ActionContext) -> bool:
    """The same contact, reference, date, currency and line amounts, not deleted or voided."""
    body = built.body
    lines = stored.get("LineItems") or []
    amounts = [answer_decimal(line.get("LineAmount")) for line in lines if isinstance(line, Mapping)]
    return (stored.get("Status") not in ("DELETED", "VOIDED")
            and (stored.get("Contact") or {}).get("ContactID") == body["Contact"]["ContactID"]
            and stored.get("Reference") == body["Reference"]
            and str(api.xero_date(stored.get("Date"))) == body["Date"]
            and stored.get("CurrencyCode") == body["CurrencyCode"]
            and None not in amounts and total(amounts) == built.total)  # type: ignore[arg-type]


#: Xero deletes a draft or submitted invoice and voids an authorised one
UNDO = status_undo("Invoices", "InvoiceID", "invoice",
                   target=lambda status: "DELETED" if status in ("DRAFT", "SUBMITTED") else "VOIDED")


SAMPLE_RESPONSE = {"Id": "2b4c6a1e-0000-4000-8000-000000000010", "Status": "OK", "Invoices": [{
    "InvoiceID": "6a1c4f52-7d7e-4d5b-9a3c-4b1a2f0e9d11", "InvoiceNumber": "INV-0042", "Type": "ACCREC",
    "Status": "AUTHORISED", "Reference": SAMPLE["Reference"], "CurrencyCode": "USD", "Total": "49.00",
    "StatusAttributeString": "OK"}]}

ACTION = create_action(
    name="xero.create_invoice",
    summary="Creates a Xero sales invoice (ACCREC) exactly once, linked to its source reference.",
    what="a Xero sales invoice",
    lookup_keys="contact and Reference",
    schemas=Schemas(input=INPUT_SCHEMA, output=OUTPUT_SCHEMA, sample=SAMPLE, sample_response=SAMPLE_RESPONSE),
    steps=CreateSteps(build=build,
                      request=lambda built, ctx: api.create(ctx, "Invoices", built.body, "xero.create_invoice"),
                      classify=classify, read=read, read_stored=_output, lookup=lookup, matches=matches),
    undo=UNDO,
)
