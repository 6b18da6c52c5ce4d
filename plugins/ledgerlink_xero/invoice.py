"""``xero.create_invoice`` (a sales invoice, ``ACCREC``) and ``xero.create_credit_note`` (a
sales credit note, ``ACCRECCREDIT``), each exactly once: one shape, :class:`Document`.

``PUT /Invoices`` or ``PUT /CreditNotes`` with ``summarizeErrors=false&unitdp=4`` and the
step's ``Idempotency-Key`` (https://developer.xero.com/documentation/api/accounting/invoices,
/creditnotes). The document is found again — when an answer was lost after Xero's ~6-minute
key expired — by its ``Reference`` (the source document's id, e.g. Stripe's ``in_…`` or
``cn_…``) among the sales documents of that type, matched on contact, date, currency and line
amounts. It is linked to that reference, so a later step (a payment, an allocation) can name
the source id. Undo deletes a draft or submitted document and voids an authorised one
(Xero's ``Status`` ``DELETED`` / ``VOIDED``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response, answer_decimal, total
from ledgerlink.contract.problems import begin, date, text
from ledgerlink.contract.writes import CreateSteps, Schemas, create_action

from . import api
from .errors import classify
from .fields import GUID, MONEY, currency, line_items, line_schema, string as _s
from .undo import status_undo


@dataclass(frozen=True)
class Document:
    """A kind of sales document: its collection, id and number fields, Xero type, words."""

    collection: str
    id_field: str
    number_field: str
    type: str
    what: str
    #: the link a run keeps: the create action's own name, so ``ledgerlink runs undo`` voids
    #: or deletes the document (a link under another name is taken for a shared entity, kept)
    target_type: str
    #: the query parameter that narrows a lookup to the contact ("" when the endpoint has none)
    contact_filter: str


INVOICE = Document("Invoices", "InvoiceID", "InvoiceNumber", "ACCREC", "invoice", "xero.create_invoice",
                   "ContactIDs")
CREDIT_NOTE = Document("CreditNotes", "CreditNoteID", "CreditNoteNumber", "ACCRECCREDIT", "credit note",
                       "xero.create_credit_note", "")

LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")


def input_schema(kind: Document) -> dict[str, Any]:
    """The input schema of a ``kind`` document."""
    what = kind.what
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"a Xero sales {what} ({kind.type})",
        "type": "object",
        "required": ["ContactID", "Date", "Reference", "CurrencyCode", "LineItems"],
        "additionalProperties": False,
        "properties": {
            "ContactID": _s(f"The Xero contact of the {what} (xero.find_or_create_contact's id).", pattern=GUID),
            "Date": _s(f"The {what} date, YYYY-MM-DD.", format="date"),
            "DueDate": _s("The due date, YYYY-MM-DD (default: the contact's or organisation's terms).",
                          format="date"),
            "Reference": _s(f"The source document's id (e.g. Stripe's in_… or cn_…): how the {what} is found "
                            f"again and linked; at most 255 characters.", minLength=1, maxLength=255),
            kind.number_field: _s(f"The {what} number (default: Xero's next number).", maxLength=255),
            "CurrencyCode": _s(f"ISO 4217 currency of the {what}.", pattern="^[A-Za-z]{3}$"),
            "exchange_rate": {**MONEY, "description": "Base-currency units one unit of CurrencyCode is worth "
                                                      "(Stripe's balance transaction exchange_rate); required "
                                                      "outside the base currency, sent as Xero's CurrencyRate "
                                                      "(its inverse)."},
            "LineAmountTypes": {"enum": list(LINE_AMOUNT_TYPES),
                                "description": "Whether unit amounts exclude tax (Exclusive, Xero's default), "
                                               "include it (Inclusive) or carry none (NoTax)."},
            "Status": {"enum": list(STATUSES), "description": "DRAFT, SUBMITTED or AUTHORISED (default: "
                                                              "AUTHORISED, so it can be paid or allocated)."},
            "LineItems": {"type": "array", "minItems": 1, "description": f"The {what} lines.",
                          "items": line_schema("revenue")},
        },
    }


def output_schema(kind: Document) -> dict[str, Any]:
    """The output schema of a ``kind`` document."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": _s(f"The Xero {kind.id_field}."),
            "number": _s(f"The {kind.what} number Xero gave or kept."),
            "status": _s(f"The {kind.what}'s Status in Xero."),
            "total": _s(f"The {kind.what}'s Total (tax included), as Xero answered it."),
            "link": {"type": "object", "description": f"What ledgerlink links: the Reference ↔ this {kind.what}."},
        },
    }


@dataclass(frozen=True)
class BuiltDocument:
    body: dict[str, Any]
    total: Decimal


def build(kind: Document, data: Mapping[str, Any], ctx: ActionContext) -> BuiltDocument:
    """The document's body; every input problem raises (with its JSON pointer) before a request."""
    problems = begin(f"xero.create_{kind.what.replace(' ', '_')}", f"a Xero {kind.what}", data,
                     input_schema(kind)["properties"])
    body: dict[str, Any] = {"Type": kind.type, "Contact": {"ContactID": str(data.get("ContactID", ""))}}
    body["Date"] = date(data.get("Date"), "/Date", problems)
    if "DueDate" in data:
        body["DueDate"] = date(data.get("DueDate"), "/DueDate", problems)
    body["Reference"] = text(data.get("Reference"), "/Reference", "Reference", 255, problems, keeper="Xero")
    if data.get(kind.number_field):
        body[kind.number_field] = text(data[kind.number_field], f"/{kind.number_field}", kind.number_field, 255,
                                       problems, keeper="Xero")
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
    body["LineItems"], amounts = line_items(data.get("LineItems"), code_, problems, f"{kind.what} lines")
    problems.raise_if_any()
    return BuiltDocument(body=body, total=total(amounts))


def document_action(kind: Document, *, summary: str, sample: Mapping[str, Any],
                    sample_response: Mapping[str, Any]) -> Action:
    """The create action of a ``kind`` document, found again by Reference, undone by status."""

    def output(stored: Mapping[str, Any], built: BuiltDocument) -> dict[str, Any]:
        answered = answer_decimal(stored.get("Total"))
        return {"id": str(stored[kind.id_field]), "number": str(stored.get(kind.number_field) or ""),
                "status": str(stored.get("Status") or built.body["Status"]),
                "total": str(answered if answered is not None else built.total),
                "link": {"source_id": built.body["Reference"], "target_type": kind.target_type}}

    def lookup(built: BuiltDocument, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
        # page=1: Xero lists line items only on paged lists
        where = api.where_all([("Type", kind.type), ("Reference", built.body["Reference"])])
        params = {"page": "1"}
        if kind.contact_filter:
            params[kind.contact_filter] = built.body["Contact"]["ContactID"]
        return api.elements((yield api.read(ctx, kind.collection, where=where, **params)), kind.collection, kind.what)

    def matches(stored: Mapping[str, Any], built: BuiltDocument, ctx: ActionContext) -> bool:
        body = built.body
        amounts = [answer_decimal(line.get("LineAmount")) for line in stored.get("LineItems") or []
                   if isinstance(line, Mapping)]
        return (stored.get("Status") not in ("DELETED", "VOIDED")
                and (stored.get("Contact") or {}).get("ContactID") == body["Contact"]["ContactID"]
                and stored.get("Reference") == body["Reference"]
                and str(api.xero_date(stored.get("Date"))) == body["Date"]
                and stored.get("CurrencyCode") == body["CurrencyCode"]
                and None not in amounts and total(amounts) == built.total)  # type: ignore[arg-type]

    name = f"xero.create_{kind.what.replace(' ', '_')}"
    return create_action(
        name=name, summary=summary, what=f"a Xero sales {kind.what}", lookup_keys="type and Reference",
        schemas=Schemas(input=input_schema(kind), output=output_schema(kind), sample=sample,
                        sample_response=sample_response),
        steps=CreateSteps(build=lambda data, ctx: build(kind, data, ctx),
                          request=lambda built, ctx: api.create(ctx, kind.collection, built.body, name),
                          classify=classify,
                          read=lambda response, built: output(api.created(response, kind.collection, kind.what,
                                                                          kind.id_field), built),
                          read_stored=output, lookup=lookup, matches=matches),
        # Xero deletes a draft or submitted document and voids an authorised one
        undo=status_undo(kind.collection, kind.id_field, kind.what,
                         target=lambda status: "DELETED" if status in ("DRAFT", "SUBMITTED") else "VOIDED"),
        entity=kind.id_field.removesuffix("ID"),  # Invoice, CreditNote: as the triggers name them
    )


SAMPLE = {"ContactID": "bd2270c3-8706-4c11-9cfb-000b551c3f51", "Date": "2026-11-30", "DueDate": "2026-12-14",
          "Reference": "in_1QFzvY2eZvKYlo2C", "CurrencyCode": "USD", "LineAmountTypes": "NoTax",
          "LineItems": [{"Description": "Pro plan, November", "Quantity": "1", "UnitAmount": "49.00",
                         "AccountCode": "200"}]}

SAMPLE_RESPONSE = {"Id": "2b4c6a1e-0000-4000-8000-000000000010", "Status": "OK", "Invoices": [{
    "InvoiceID": "6a1c4f52-7d7e-4d5b-9a3c-4b1a2f0e9d11", "InvoiceNumber": "INV-0042", "Type": "ACCREC",
    "Status": "AUTHORISED", "Reference": SAMPLE["Reference"], "CurrencyCode": "USD", "Total": "49.00",
    "StatusAttributeString": "OK"}]}

CREDIT_NOTE_SAMPLE = {"ContactID": "bd2270c3-8706-4c11-9cfb-000b551c3f51", "Date": "2026-11-30",
                      "Reference": "cn_1QFzvY2eZvKYlo2C", "CurrencyCode": "USD", "LineAmountTypes": "NoTax",
                      "LineItems": [{"Description": "Refund: Pro plan, November", "UnitAmount": "49.00",
                                     "AccountCode": "200"}]}

CREDIT_NOTE_RESPONSE = {"Id": "2b4c6a1e-0000-4000-8000-000000000050", "Status": "OK", "CreditNotes": [{
    "CreditNoteID": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b", "CreditNoteNumber": "CN-0007", "Type": "ACCRECCREDIT",
    "Status": "AUTHORISED", "Total": "49.00", "StatusAttributeString": "OK"}]}

ACTION = document_action(INVOICE, summary="Creates a Xero sales invoice (ACCREC) exactly once, linked to its "
                                          "source reference.",
                         sample=SAMPLE, sample_response=SAMPLE_RESPONSE)
CREATE_CREDIT_NOTE = document_action(CREDIT_NOTE, summary="Creates a Xero sales credit note (ACCRECCREDIT) exactly "
                                                          "once, linked to its source reference.",
                                     sample=CREDIT_NOTE_SAMPLE, sample_response=CREDIT_NOTE_RESPONSE)


VOID_INPUT = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "void a Xero sales invoice",
              "type": "object", "required": ["InvoiceID"], "additionalProperties": False,
              "properties": {"InvoiceID": _s("The invoice to void (deleted instead while it is a draft).",
                                             pattern=GUID)}}
VOID_OUTPUT = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
               "required": ["id", "status"],
               "properties": {"id": _s("The Xero InvoiceID."),
                              "status": {"enum": ["voided", "deleted", "already gone"],
                                         "description": "What happened: voided, deleted (a draft), or it already was."}}}
_VOID = status_undo(INVOICE.collection, INVOICE.id_field, INVOICE.what,
                    target=lambda status: "DELETED" if status in ("DRAFT", "SUBMITTED") else "VOIDED")


def void_invoice(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Read the invoice, then void it (delete a draft); one already voided or deleted is left as it is,
    so a repeated step changes nothing. Xero refuses to void a paid invoice, with its message."""
    problems = begin("xero.void_invoice", "a void", data, VOID_INPUT["properties"])
    problems.raise_if_any()
    return dict((yield from _VOID(str(data.get("InvoiceID", "")), ctx)))


VOID_INVOICE = Action(name="xero.void_invoice", summary="Voids a Xero sales invoice (a draft is deleted).",
                      input_schema=VOID_INPUT, output_schema=VOID_OUTPUT,
                      sample={"InvoiceID": "6a1c4f52-7d7e-4d5b-9a3c-4b1a2f0e9d11"}, perform=void_invoice,
                      sample_response={"Invoices": [{"InvoiceID": "6a1c4f52-7d7e-4d5b-9a3c-4b1a2f0e9d11",
                                                     "Status": "AUTHORISED", "StatusAttributeString": "OK"}]},
                      idempotency="lookup")
