"""Xero's triggers: invoices, contacts and credit notes created or updated, each read in full.

Xero's webhooks (:mod:`.webhook`) and the poll (:mod:`.polling`) bring the same event: the
organisation (``tenant_id``), the entity (``entity_type``, ``entity_id``), what happened
(``operation``), when (``changed_at``), how ledgerlink learned of it (``via``) and ``data``,
the entity as Xero returns it from ``GET /Invoices/{id}``, ``/Contacts/{id}`` or
``/CreditNotes/{id}`` (https://developer.xero.com/documentation/api/accounting/invoices).
A webhook carries ids only, so each trigger *fetches* the entity before runs are planned
(governed like any request); a polled event carries it already.

**Occurrences.** The event ids of a webhook and of a poll differ (the webhook's time is the
event's, the poll's the record's), so what makes one occurrence is the state read:
``version`` = ``{entity_id}@{UpdatedDateUTC}``. An update read twice — delivered and polled,
or two notifications fetched after both changes — plans one run per recipe; a creation is
one occurrence per entity.

**The past.** Each trigger lists its collection for ``ledgerlink backfill`` (:mod:`.history`):
every record changed in the range, as the event its trigger carries once fetched, under the
poll's event id for the same state; the occurrences above keep a back-filled record from
being booked again by a later webhook or poll.

**A payment recorded in Xero** has no event of its own (Xero has no payment category): it is
an ``xero.invoice.updated`` whose invoice's ``AmountPaid`` grew, with the payment in
``data.Payments``. A recipe books payments made in Xero with a filter such as::

    {"event": "xero.invoice.updated", "connection": "xero",
     "filter": {"all": [{"path": "$.event.data.Type", "eq": "ACCREC"},
                        {"path": "$.event.data.AmountPaid", "gt": 0}]}}

and keys what it writes on the payment (``data.Payments[-1].PaymentID``), since the invoice
is updated again later (emailed, noted) with the same ``AmountPaid``: each update is an event.

**Echoes.** Each trigger declares its entity (``Invoice``, ``Contact``, ``CreditNote``) and
when the change was made (``data.UpdatedDateUTC``, Xero's ``/Date(ms+0000)/``): an invoice
ledgerlink created, or paid (``xero.create_payment`` records the invoice it pays as written
too), read no later than ledgerlink's write, is ledgerlink's own echo and runs no recipe.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import hookimpl
from ledgerlink.contract import ActionContext, Request, Response, Trigger
from ledgerlink.errors import ConfigError, EventError

from . import api
from .history import history_of
from .webhook import CATEGORIES, COLLECTIONS, ID_FIELDS, OPERATIONS, TENANT_SETTING, trigger_name, version


def fetch(payload: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, Mapping[str, Any] | None]:
    """Read the entity an event names; the event then carries it as ``data``.

    A polled event carries it already. An entity Xero no longer has (404) returns None:
    nothing is planned. The read is the connector's (:func:`.api.read`: unit prices to four
    decimals where Xero offers it; the organisation's ``xero-tenant-id`` added with the token).
    """
    if payload.get("data") is not None:
        return dict(payload)
    tenant = str(ctx.connection.settings.get(TENANT_SETTING, ""))
    if str(payload.get("tenant_id")) != tenant:
        raise ConfigError(f"an event of Xero organisation {payload.get('tenant_id')} reached connection "
                          f"{ctx.connection.name!r} (organisation {tenant}); configure a Xero connection "
                          f"with {TENANT_SETTING} = \"{payload.get('tenant_id')}\"")
    entity = str(payload.get("entity_type"))
    if entity not in COLLECTIONS:
        raise EventError(f"a Xero event about a {entity!r}, which no trigger reads", pointer="/entity_type")
    collection = COLLECTIONS[entity]
    response = yield api.read(ctx, collection, str(payload["entity_id"]))
    if response.status == 404:
        return None
    found = api.elements(response, collection, entity)
    if not found:
        raise EventError(f"Xero answered the read of {entity} {payload['entity_id']} without the "
                         f"{entity} in {collection}")
    return {**payload, "data": found[0], "version": version(str(payload["entity_id"]), found[0])}


# --- schemas and samples ------------------------------------------------------------------------

def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _money(description: str) -> dict[str, Any]:
    return {"type": "number", "description": f"{description}, in the document's CurrencyCode (exact)."}


_CONTACT_REF = {"type": "object", "description": "The contact (customer or supplier).",
                "properties": {"ContactID": _text("The contact's id."), "Name": _text("Its name.")}}

_FIELDS: dict[str, dict[str, Any]] = {
    "Invoice": {
        "InvoiceID": _text("The invoice's id."),
        "Type": {"enum": ["ACCREC", "ACCPAY"], "description": "ACCREC: a sales invoice; ACCPAY: a bill."},
        "InvoiceNumber": _text("Its number."), "Reference": _text("Its reference."),
        "Contact": _CONTACT_REF,
        "Status": _text("DRAFT, SUBMITTED, AUTHORISED, PAID, VOIDED or DELETED."),
        "LineAmountTypes": _text("Exclusive, Inclusive or NoTax."),
        "SubTotal": _money("Before tax"), "TotalTax": _money("The tax"), "Total": _money("The total"),
        "AmountDue": _money("Still to be paid"),
        "AmountPaid": _money("Paid so far: a payment recorded in Xero raises it"),
        "Payments": {"type": "array", "description": "The payments made on it (PaymentID, Date, Amount).",
                     "items": {"type": "object", "description": "A payment."}},
        "CurrencyCode": _text("ISO 4217 code."),
        "CurrencyRate": {"type": "number", "description": "The rate Xero holds between CurrencyCode and the organisation's base currency."},
        "UpdatedDateUTC": _text("When Xero last changed it (/Date(ms+0000)/)."),
    },
    "Contact": {
        "ContactID": _text("The contact's id."), "Name": _text("Its name (unique in the organisation)."),
        "ContactStatus": _text("ACTIVE, ARCHIVED or GDPRREQUEST."),
        "EmailAddress": _text("Its email address."), "AccountNumber": _text("Its account number."),
        "IsCustomer": {"type": "boolean", "description": "Whether it has sales invoices."},
        "UpdatedDateUTC": _text("When Xero last changed it (/Date(ms+0000)/)."),
    },
    "CreditNote": {
        "CreditNoteID": _text("The credit note's id."), "CreditNoteNumber": _text("Its number."),
        "Type": {"enum": ["ACCRECCREDIT", "ACCPAYCREDIT"], "description": "Customer or supplier credit."},
        "Contact": _CONTACT_REF, "Status": _text("DRAFT, SUBMITTED, AUTHORISED, PAID, VOIDED or DELETED."),
        "Total": _money("The total"), "RemainingCredit": _money("Not yet allocated or refunded"),
        "CurrencyCode": _text("ISO 4217 code."),
        "Allocations": {"type": "array", "description": "Its allocations to invoices.",
                        "items": {"type": "object", "description": "An allocation."}},
        "UpdatedDateUTC": _text("When Xero last changed it (/Date(ms+0000)/)."),
    },
}


def _schema(entity: str, operation: str) -> dict[str, Any]:
    id_field = ID_FIELDS[entity]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Xero {entity} {operation}",
        "type": "object",
        "required": ["tenant_id", "entity_type", "entity_id", "operation", "changed_at", "via", "data"],
        "properties": {
            "tenant_id": _text("The organisation (Xero tenant) the change was made in."),
            "entity_type": {"const": entity, "description": "The Xero entity."},
            "entity_id": _text(f"The {entity}'s {id_field}."),
            "operation": {"const": operation, "description": "What happened to it."},
            "changed_at": _text("When Xero changed it (UTC, ISO 8601, to the millisecond)."),
            "via": {"enum": ["webhook", "poll", "backfill"],
                    "description": "How ledgerlink learned of it: a webhook, a poll or ledgerlink backfill."},
            "notification": {"type": "object", "description": "The webhook's event as Xero sent it (webhooks only)."},
            "version": {"type": ["string", "null"],
                        "description": "The state read, {entity_id}@{UpdatedDateUTC as ISO 8601}: the same "
                                       "whether a webhook's fetch or a poll read it."},
            "data": {"type": "object", "required": [id_field], "properties": _FIELDS[entity],
                     "description": f"The {entity} as Xero returns it, read after the notification."},
        },
    }


#: entities shaped after the response examples of Xero's OpenAPI description (getInvoice,
#: getContact, getCreditNote in xero_accounting.yaml, XeroAPI/Xero-OpenAPI, MIT)
_DATA: dict[str, dict[str, Any]] = {
    "Invoice": {"Type": "ACCREC", "InvoiceID": "a03ffcd2-5d91-4c7e-b483-318584e9e439",
                "InvoiceNumber": "INV-0006", "Reference": "Tour", "Status": "PAID",
                "Contact": {"ContactID": "430fa14a-f945-44d3-9f97-5df5e28441b8", "Name": "Liam Gallagher"},
                "Payments": [{"PaymentID": "38928000-e9a0-420c-8884-f624bab2a351",
                              "Date": "/Date(1552953600000+0000)/", "Amount": "148062.76"}],
                "LineAmountTypes": "Exclusive", "SubTotal": "148062.76", "TotalTax": "0.00",
                "Total": "148062.76", "AmountDue": "0.00", "AmountPaid": "148062.76",
                "CurrencyCode": "NZD", "CurrencyRate": "1.000000",
                "UpdatedDateUTC": "/Date(1551981568133+0000)/"},
    "Contact": {"ContactID": "430fa14a-f945-44d3-9f97-5df5e28441b8", "Name": "Liam Gallagher",
                "ContactStatus": "ACTIVE", "EmailAddress": "liam@rockstar.com", "IsCustomer": True,
                "UpdatedDateUTC": "/Date(1551747281053+0000)/"},
    "CreditNote": {"CreditNoteID": "55d84274-a3da-4829-a7c0-0cab601b95cc", "CreditNoteNumber": "CN-0002",
                   "Type": "ACCRECCREDIT", "Status": "AUTHORISED",
                   "Contact": {"ContactID": "430fa14a-f945-44d3-9f97-5df5e28441b8", "Name": "Liam Gallagher"},
                   "Total": "40.00", "RemainingCredit": "40.00", "CurrencyCode": "NZD", "Allocations": [],
                   "UpdatedDateUTC": "/Date(1551987468233+0000)/"},
}


def _sample(entity: str, operation: str) -> dict[str, Any]:
    data = {k: Decimal(v) if k in ("SubTotal", "TotalTax", "Total", "AmountDue", "AmountPaid", "CurrencyRate",
                                   "RemainingCredit") else v for k, v in _DATA[entity].items()}
    if "Payments" in data:
        data["Payments"] = [{**p, "Amount": Decimal(p["Amount"])} for p in data["Payments"]]
    return {"tenant_id": "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f", "entity_type": entity,
            "entity_id": data[ID_FIELDS[entity]], "operation": operation,
            "changed_at": "2026-11-24T17:30:00.000Z", "via": "webhook", "data": data,
            "version": version(data[ID_FIELDS[entity]], data)}


def _summary(entity: str, operation: str) -> str:
    words = {"Invoice": "An invoice or bill", "Contact": "A contact", "CreditNote": "A credit note"}[entity]
    if operation == "created":
        how = "read after the webhook (the poll reports every change as updated)"
    else:
        how = "read after the webhook, or as the poll listed it"
    paid = " (a payment recorded in Xero shows here, as a higher AmountPaid)" if entity == "Invoice" \
        and operation == "updated" else ""
    return f"{words} was {operation} in Xero{paid}; the event carries the whole {entity}, {how}."


TRIGGERS = tuple(
    Trigger(name=trigger_name(category, operation), summary=_summary(entity, operation),
            event_schema=_schema(entity, operation), sample=_sample(entity, operation),
            source_id_path="$.entity_id", fetch=fetch,
            occurrence_path="$.entity_id" if operation == "created" else "$.version",
            history=history_of(category, operation),
            # an event about an entity ledgerlink wrote, read no later than its write, is its echo
            entity=entity, changed_at_path="$.data.UpdatedDateUTC")
    for category, (entity, _) in CATEGORIES.items() for operation in OPERATIONS.values())


@hookimpl
def ledgerlink_register_triggers(register):
    """Register Xero's triggers: invoices, contacts and credit notes, created or updated."""
    for trigger in TRIGGERS:
        register(trigger)
