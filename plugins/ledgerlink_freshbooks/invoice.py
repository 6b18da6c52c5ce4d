"""``freshbooks.create_invoice`` and ``freshbooks.mark_invoice_sent``.

An invoice (https://www.freshbooks.com/api/invoices) is ``POST …/invoices/invoices`` with
``{"invoice": {"customerid", "create_date", "currency_code", "lines": [...]}}``; each line is
``qty`` × ``unit_cost`` (``{"amount": "10.00", "code": "USD"}``, the currency's decimals) with
up to two taxes by name and percentage (``taxName1`` / ``taxAmount1``: FreshBooks applies the
percentage to the line; the tax must exist under that name in the business, or FreshBooks
books it as a one-off tax of that name). FreshBooks creates it as a draft.

The source's id (Stripe's ``in_…``) is kept in ``po_number``, the invoice's "Reference" field
made for another system's number: a lost answer is found again among the client's invoices
(``search[customerid]``) by its ``po_number`` and date, and a run that is resent creates no
twin. Undo is FreshBooks' ``DELETE`` (an invoice with payments is refused until they are
deleted, with FreshBooks' message).

``mark_invoice_sent`` is ``PUT {"invoice": {"action_mark_as_sent": true}}``: sent without an
e-mail to the client. An invoice no longer a draft is left as it is, so a repeated step
changes nothing.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import (Action, ActionContext, Built, CreateSteps, Request, Response, Schemas,
                                 create_action)
from ledgerlink.contract.money import total
from ledgerlink.contract.problems import begin, date, line_objects, text
from ledgerlink.errors import VendorError

from . import api, records
from .errors import classify
from .fields import LINE_KEYS, LINES_SCHEMA, currency, line_body, positive_id
from .references import ref

ACTION_NAME = "freshbooks.create_invoice"
#: the link a run keeps: the action's own name, so `ledgerlink runs undo` deletes what it made
TARGET_TYPE = ACTION_NAME
PATH = "invoices/invoices"
KIND = "invoice"
#: FreshBooks' invoice statuses by number (https://www.freshbooks.com/api/invoices)
DRAFT = 1


INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a FreshBooks invoice",
    "type": "object",
    "required": ["source_id", "customerid", "create_date", "currency_code", "lines"],
    "additionalProperties": False,
    "properties": {
        "source_id": records.SOURCE_ID,
        "customerid": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, **ref("client"),
                       "description": "The FreshBooks client invoiced (find_or_create_client's id)."},
        "create_date": {"type": "string", "format": "date", "description": "The invoice's date, YYYY-MM-DD."},
        "currency_code": {"type": "string", "pattern": "^[A-Z]{3}$",
                          "description": "The invoice's currency, ISO 4217; every amount has its decimals."},
        "invoice_number": {"type": "string", "minLength": 1, "maxLength": 50,
                           "description": "The invoice's number; FreshBooks numbers it when left out."},
        "due_offset_days": {"type": "integer", "minimum": 0,
                            "description": "Days from the date until it is due (0: on receipt)."},
        "notes": {"type": "string", "maxLength": 5000, "description": "Notes printed on the invoice."},
        "lines": {**LINES_SCHEMA, "description": "The invoice's lines."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "link"],
    "properties": {
        "id": {"type": "string", "description": "The FreshBooks invoice id."},
        "invoice_number": {"type": ["string", "null"], "description": "The invoice's number."},
        "amount": {"type": ["string", "null"], "description": "Its total with taxes, as FreshBooks worked it out."},
        "currency_code": {"type": "string", "description": "Its currency."},
        "status": {"type": ["string", "null"], "description": "FreshBooks' v3_status (draft when created)."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this invoice."},
    },
}

SAMPLE = {"source_id": "in_1NmPlK2eZvKYlo2CJ2yKwRxV", "customerid": "73625", "create_date": "2026-11-30",
          "currency_code": "USD", "invoice_number": "STRIPE-0042",
          "lines": [{"name": "Pro plan", "description": "November 2026", "qty": "2", "unit_cost": "49.50",
                     "taxes": [{"name": "Sales tax", "percent": "8.875"}]}]}


def build(data: Mapping[str, Any], ctx: ActionContext) -> Built:
    """The invoice's body; every input problem raises (with its JSON pointer) before a request."""
    problems = begin(ACTION_NAME, "a FreshBooks invoice", data, INPUT_SCHEMA["properties"])
    source = text(data.get("source_id"), "/source_id", "source_id", records.MAX_SOURCE_ID, problems,
                  keeper="ledgerlink")
    client = positive_id(data.get("customerid"), "/customerid", problems)
    day = date(data.get("create_date"), "/create_date", problems)
    code = currency(data.get("currency_code"), problems)
    lines, nets = [], []
    for _, where, line in line_objects(data.get("lines"), LINE_KEYS, ("name", "unit_cost"), problems,
                                       array_of="lines", line_is="an object with name and unit_cost",
                                       field="lines"):
        body, net = line_body(line, where, code, problems)
        lines.append(body)
        nets.append(net)
    body: dict[str, Any] = {"customerid": client, "create_date": day, "currency_code": code, "po_number": source,
                            "lines": lines}
    for key, limit in (("invoice_number", 50), ("notes", 5000)):
        if key in data:
            body[key] = text(data[key], f"/{key}", key, limit, problems, keeper="FreshBooks")
    if "due_offset_days" in data:
        days = data["due_offset_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            problems.add("/due_offset_days", f"must be a whole number of days, got {days!r}")
        body["due_offset_days"] = days
    problems.raise_if_any()
    return Built(body=body, total=total(nets))


def _output(entity: Mapping[str, Any], built: Built) -> dict[str, Any]:
    money = api.read_money(entity.get("amount"))
    return records.output(entity, built.body["po_number"], TARGET_TYPE,
                          invoice_number=entity.get("invoice_number"),
                          amount=f"{money[0]:f}" if money else None,
                          currency_code=str(entity.get("currency_code") or built.body["currency_code"]),
                          status=entity.get("v3_status"))


def _lookup(built: Built, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    return (yield from records.listed(ctx, PATH, "invoices", {"customerid": str(built.body["customerid"])}))


CREATE_INVOICE = create_action(
    name=ACTION_NAME,
    summary="Creates a FreshBooks invoice (a draft) with its lines and taxes, once per source invoice.",
    what="a FreshBooks invoice",
    lookup_keys="client, found by the source id in po_number and the date",
    schemas=Schemas(input=INPUT_SCHEMA, output=OUTPUT_SCHEMA, sample=SAMPLE,
                    sample_response={"response": {"result": {"invoice": {
                        "id": 987654, "invoiceid": 987654, "invoice_number": "STRIPE-0042", "customerid": 73625,
                        "create_date": "2026-11-30", "currency_code": "USD", "po_number": SAMPLE["source_id"],
                        "amount": {"amount": "107.79", "code": "USD"}, "status": 1, "v3_status": "draft",
                        "vis_state": 0}}}}),
    steps=CreateSteps(
        build=build,
        request=lambda built, ctx: api.create(ctx, PATH, KIND, built.body),
        classify=classify,
        read=lambda response, built: _output(api.written(response, KIND), built),
        read_stored=_output,
        lookup=_lookup,
        matches=lambda stored, built, ctx: (stored.get("po_number") == built.body["po_number"]
                                            and stored.get("create_date") == built.body["create_date"]),
    ),
    undo=records.soft_delete(PATH, KIND, verb="DELETE"),
    idempotency="lookup",
    entity="invoice",
)


# --- mark sent ------------------------------------------------------------------------------

SENT_INPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "mark a FreshBooks invoice sent",
    "type": "object", "required": ["invoiceid"], "additionalProperties": False,
    "properties": {"invoiceid": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1,
                                 **ref("invoice"), "description": "The FreshBooks invoice (create_invoice's id)."}},
}
SENT_OUTPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id", "changed"],
    "properties": {"id": {"type": "string", "description": "The invoice's id."},
                   "status": {"type": ["string", "null"], "description": "Its v3_status now."},
                   "changed": {"type": "boolean", "description": "false: it was no draft, so nothing was sent."}},
}


def mark_invoice_sent(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Read the invoice; a draft is marked sent (no e-mail), any other status left as it is."""
    problems = begin("freshbooks.mark_invoice_sent", "an invoice marked sent", data, SENT_INPUT["properties"])
    number = positive_id(data.get("invoiceid"), "/invoiceid", problems)
    problems.raise_if_any()
    current = yield api.read(ctx, PATH, number)
    if records.deleted(current, KIND):
        raise VendorError(f"FreshBooks has no invoice {number} (deleted, or never made); it cannot be marked sent",
                          kind="permanent", status=current.status)
    invoice = api.written(current, KIND)
    if invoice.get("status") != DRAFT:
        return {"id": str(number), "status": invoice.get("v3_status"), "changed": False}
    answer = yield api.update(ctx, PATH, number, KIND, {"action_mark_as_sent": True})
    return {"id": str(number), "status": api.written(answer, KIND).get("v3_status"), "changed": True}


def _sent_sample(request: Request) -> Response:
    status = (1, "draft") if request.method == "GET" else (2, "sent")
    return Response(status=200, json={"response": {"result": {"invoice": {
        "id": 987654, "status": status[0], "v3_status": status[1], "vis_state": 0}}}})


MARK_INVOICE_SENT = Action(
    name="freshbooks.mark_invoice_sent",
    summary="Marks a FreshBooks draft invoice sent without e-mailing it; any other invoice is left as it is.",
    input_schema=SENT_INPUT, output_schema=SENT_OUTPUT, sample={"invoiceid": "987654"},
    perform=mark_invoice_sent, sample_response=_sent_sample, idempotency="lookup",
    changes=lambda data, output: [("invoice", str(output["id"]))] if output.get("changed") else [])
