"""FreshBooks' triggers: payments created, invoices and clients created or updated, read whole.

A callback (:mod:`.webhook`) and the poll (:mod:`.polling`) bring the same event: the
business (``account_id``), the object (``object``: payment, invoice or client, and
``object_id``), what happened (``operation``), how ledgerlink learned of it (``via``) and
``data``, the object as FreshBooks returns it from ``GET
/accounting/account/{account_id}/payments/payments/{id}``, ``…/invoices/invoices/{id}``
(with ``include[]=lines``: without it an invoice has no lines) or ``…/users/clients/{id}``
(https://www.freshbooks.com/api/payments, /api/invoices, /api/clients). A callback carries
ids only, so each trigger *fetches* the object before runs are planned; a polled event
carries it already. An object FreshBooks no longer has (404, or deleted: ``vis_state`` 1) is
gone: nothing is planned.

**Occurrences.** A payment or an object's creation happens once: its occurrence is the
object's id, whether a callback or the poll told it. An update is one occurrence per state
read, ``version`` = ``{id}@{updated}``: an update delivered twice, or delivered and polled,
plans one run per recipe. Money in ``data`` stays as FreshBooks writes it,
``{"amount": "41.94", "code": "CAD"}`` with the amount a decimal string.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink import hookimpl
from ledgerlink.contract import ActionContext, Request, Response, Trigger
from ledgerlink.errors import ConfigError, EventError

from . import reads
from .history import payment_history
from .webhook import TENANT_SETTING, changed_at, trigger_name, version

#: the triggers: (object, operation)
KINDS = (("payment", "created"), ("invoice", "created"), ("invoice", "updated"),
         ("client", "created"), ("client", "updated"))


def fetch(payload: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, Mapping[str, Any] | None]:
    """Read the object an event names; the event then carries it as ``data``.

    A polled event carries it already. An object FreshBooks no longer has returns None.
    """
    if payload.get("data") is not None:
        return {**payload, "changed_at": changed_at(payload["data"])}
    account = str(ctx.connection.settings.get(TENANT_SETTING, ""))
    if str(payload.get("account_id")) != account:
        raise ConfigError(f"an event of FreshBooks business {payload.get('account_id')} reached connection "
                          f"{ctx.connection.name!r} (business {account or 'not connected yet'}); configure a "
                          f"FreshBooks connection for that business")
    obj = str(payload.get("object"))
    if obj not in reads.OBJECTS:
        raise EventError(f"a FreshBooks event about a {obj!r}, which no trigger reads", pointer="/object")
    response = yield reads.read_one(ctx, obj, str(payload.get("object_id")))
    found = reads.one(response, obj)
    if found is None:
        return None
    return {**payload, "data": found, "version": version(found), "changed_at": changed_at(found)}


# --- schemas and samples ------------------------------------------------------------------------

def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


_MONEY = {"type": "object", "description": "Money: a decimal string and its ISO currency code.",
          "required": ["amount", "code"],
          "properties": {"amount": _text("The amount, a decimal string such as \"41.94\"."),
                         "code": _text("ISO 4217 code.")}}
_ID = {"type": "integer", "description": "FreshBooks' id."}
_UPDATED = _text("When it last changed, as FreshBooks writes it: YYYY-MM-DD HH:MM:SS, US/Eastern.")

_FIELDS: dict[str, dict[str, Any]] = {
    "payment": {"id": _ID, "invoiceid": {"type": ["integer", "null"], "description": "The invoice it pays."},
                "clientid": {"type": ["integer", "null"], "description": "The client who paid."},
                "amount": _MONEY, "date": _text("The day it was paid (YYYY-MM-DD)."),
                "type": _text("How: Check, Cash, Credit Card, Bank Transfer …"),
                "note": {"type": ["string", "null"], "description": "Its note."},
                "vis_state": {"type": "integer", "description": "0 active, 1 deleted, 2 archived."},
                "updated": _UPDATED},
    "invoice": {"id": _ID, "invoiceid": _ID, "invoice_number": _text("Its number."),
                "customerid": _ID, "currency_code": _text("ISO 4217 code."),
                "amount": _MONEY, "outstanding": _MONEY, "paid": _MONEY,
                "v3_status": _text("draft, sent, viewed, partial, paid, …"),
                "payment_status": _text("unpaid, partial or paid."),
                "po_number": {"type": ["string", "null"], "description": "Its PO number."},
                "lines": {"type": "array", "description": "Its lines (read with include[]=lines).",
                          "items": {"type": "object"}},
                "vis_state": {"type": "integer", "description": "0 active, 1 deleted, 2 archived."},
                "updated": _UPDATED},
    "client": {"id": _ID, "userid": _ID, "organization": _text("The organisation's name."),
               "fname": _text("First name."), "lname": _text("Last name."), "email": _text("Email address."),
               "currency_code": _text("ISO 4217 code."),
               "vis_state": {"type": "integer", "description": "0 active, 1 deleted, 2 archived."},
               "updated": _UPDATED},
}


def _schema(obj: str, operation: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": trigger_name(obj, operation), "type": "object",
        "required": ["account_id", "object", "object_id", "operation", "via", "data"],
        "properties": {
            "account_id": _text("The business's accounting id (the connection's account_id)."),
            "object": {"const": obj, "description": "What the event is about."},
            "object_id": _text("The object's id."),
            "operation": {"const": operation, "description": "What happened."},
            "via": {"enum": ["callback", "poll"], "description": "How ledgerlink learned of it."},
            "delivery": {"type": "object", "description": "The callback's form fields, when a callback told it."},
            "version": {"type": ["string", "null"], "description": "{id}@{updated}: the state read."},
            "changed_at": {"type": ["string", "null"],
                           "description": "When it last changed: its updated (US/Eastern) in ISO 8601, UTC."},
            "data": {"type": "object", "description": f"The {obj} as FreshBooks returns it.",
                     "properties": _FIELDS[obj]},
        },
    }


#: the samples' objects, shaped as the FreshBooks SDKs' recorded answers
_DATA: dict[str, dict[str, Any]] = {
    "payment": {"accounting_systemid": "ACM123", "amount": {"amount": "41.94", "code": "CAD"},
                "clientid": 12345, "date": "2021-04-16", "id": 235435, "invoiceid": 987654,
                "logid": 235435, "note": "Some note", "type": "Check",
                "updated": "2021-04-17 05:29:31", "vis_state": 0},
    "invoice": {"accounting_systemid": "ACM123", "amount": {"amount": "41.94", "code": "CAD"},
                "currency_code": "CAD", "customerid": 12345, "id": 987654, "invoiceid": 987654,
                "invoice_number": "ACM0001", "outstanding": {"amount": "21.94", "code": "CAD"},
                "paid": {"amount": "20.00", "code": "CAD"}, "payment_status": "partial",
                "v3_status": "partial", "po_number": None,
                "lines": [{"lineid": 1, "name": "A Thing", "qty": "1",
                           "unit_cost": {"amount": "41.94", "code": "CAD"}}],
                "updated": "2021-04-16 10:31:58", "vis_state": 0},
    "client": {"accounting_systemid": "ACM123", "currency_code": "CAD", "email": "gordon.shumway@AmericanCyanamid.com",
               "fname": "Gordon", "lname": "Shumway", "id": 12345, "organization": "American Cyanamid",
               "userid": 12345, "updated": "2020-11-01 13:11:10", "vis_state": 0},
}


def _sample(obj: str, operation: str) -> dict[str, Any]:
    data = dict(_DATA[obj])
    return {"account_id": "ACM123", "object": obj, "object_id": str(data["id"]), "operation": operation,
            "via": "callback", "data": data, "version": version(data), "changed_at": changed_at(data)}


def _summary(obj: str, operation: str) -> str:
    words = {"payment": "A payment was recorded", "invoice": f"An invoice was {operation}",
             "client": f"A client was {operation}"}[obj]
    how = ("read after the callback (the poll reports each change as updated)"
           if obj != "payment" and operation == "created" else "read after the callback or as the poll listed it")
    return f"{words} in FreshBooks; the event carries the whole {obj}, {how}."


TRIGGERS = tuple(
    Trigger(name=trigger_name(obj, operation), summary=_summary(obj, operation),
            event_schema=_schema(obj, operation), sample=_sample(obj, operation),
            source_id_path="$.object_id", fetch=fetch,
            occurrence_path="$.object_id" if operation == "created" else "$.version",
            entity=obj, changed_at_path="$.changed_at",
            history=payment_history if obj == "payment" else None)
    for obj, operation in KINDS)


@hookimpl
def ledgerlink_register_triggers(register):
    """Register FreshBooks' triggers: payments created, invoices and clients created or updated."""
    for trigger in TRIGGERS:
        register(trigger)
