"""``freshbooks.create_credit_note``: a FreshBooks credit note for a source credit note or refund.

FreshBooks has credit notes of their own (https://www.freshbooks.com/api/credit_notes):
``POST …/credit_notes/credit_notes`` with ``{"credit_note": {"clientid", "create_date",
"currency_code", "lines": [...]}}``, lines as an invoice's (``qty`` × ``unit_cost``, taxes by
name and percentage). FreshBooks keeps the amount as the client's credit, which the business
applies to an invoice or refunds. That is the closest FreshBooks object to Stripe's credit
note, and is what a Stripe credit note or refund books here.

The source's id (Stripe's ``cn_…`` or ``re_…``) is kept in the note's ``notes`` (a line
``ledgerlink source <id>``): a lost answer is found among the client's credit notes
(``search[clientid]``) by it and the date. Undo deletes the note (``vis_state`` 1).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, CreateSteps, Request, Response, Schemas, create_action
from ledgerlink.contract.money import total
from ledgerlink.contract.problems import begin, date, line_objects, text

from . import api, records
from .errors import classify
from .fields import LINE_KEYS, currency, line_body, positive_id
from .invoice import INPUT_SCHEMA as INVOICE_INPUT

ACTION_NAME = "freshbooks.create_credit_note"
#: the link a run keeps: the action's own name, so `ledgerlink runs undo` deletes what it made
TARGET_TYPE = ACTION_NAME
PATH = "credit_notes/credit_notes"
KIND = "credit_note"

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a FreshBooks credit note",
    "type": "object",
    "required": ["source_id", "clientid", "create_date", "currency_code", "lines"],
    "additionalProperties": False,
    "properties": {
        "source_id": records.SOURCE_ID,
        "clientid": {**INVOICE_INPUT["properties"]["customerid"],
                     "description": "The FreshBooks client credited (find_or_create_client's id)."},
        "create_date": {"type": "string", "format": "date", "description": "The credit note's date, YYYY-MM-DD."},
        "currency_code": INVOICE_INPUT["properties"]["currency_code"],
        "credit_number": {"type": "string", "minLength": 1, "maxLength": 50,
                          "description": "The credit note's number; FreshBooks numbers it when left out."},
        "notes": {"type": "string", "maxLength": 4000,
                  "description": "Notes printed on it; the source id's line is added."},
        "lines": {**INVOICE_INPUT["properties"]["lines"], "description": "What is credited, as invoice lines."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id", "link"],
    "properties": {
        "id": {"type": "string", "description": "The FreshBooks credit note id."},
        "credit_number": {"type": ["string", "null"], "description": "Its number."},
        "amount": {"type": ["string", "null"], "description": "Its total with taxes, as FreshBooks worked it out."},
        "currency_code": {"type": "string", "description": "Its currency."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this credit note."},
    },
}

SAMPLE = {"source_id": "cn_1NmQ2c2eZvKYlo2Cq8Yw3bXz", "clientid": "73625", "create_date": "2026-11-30",
          "currency_code": "EUR", "lines": [{"name": "Refund: Pro plan", "unit_cost": "49.50",
                                             "taxes": [{"name": "VAT", "percent": "20"}]}]}


def build(data: Mapping[str, Any], ctx: ActionContext) -> records.Sourced:
    """The credit note's body; every input problem raises before a request."""
    problems = begin(ACTION_NAME, "a FreshBooks credit note", data, INPUT_SCHEMA["properties"])
    source = text(data.get("source_id"), "/source_id", "source_id", records.MAX_SOURCE_ID, problems,
                  keeper="ledgerlink")
    client = positive_id(data.get("clientid"), "/clientid", problems)
    day = date(data.get("create_date"), "/create_date", problems)
    code = currency(data.get("currency_code"), problems)
    lines, nets = [], []
    for _, where, line in line_objects(data.get("lines"), LINE_KEYS, ("name", "unit_cost"), problems,
                                       array_of="lines", line_is="an object with name and unit_cost",
                                       field="lines"):
        body, net = line_body(line, where, code, problems)
        lines.append(body)
        nets.append(net)
    notes = text(data.get("notes", ""), "/notes", "notes", 4000, problems, keeper="FreshBooks")
    body: dict[str, Any] = {"clientid": client, "create_date": day, "currency_code": code, "lines": lines}
    if "credit_number" in data:
        body["credit_number"] = text(data["credit_number"], "/credit_number", "credit_number", 50, problems,
                                     keeper="FreshBooks")
    problems.raise_if_any()
    mark = api.mark(str(source))
    body["notes"] = f"{notes}\n{mark}" if notes else mark
    return records.Sourced(body=body, total=total(nets), source=str(source))


def _output(entity: Mapping[str, Any], built: records.Sourced) -> dict[str, Any]:
    money = api.read_money(entity.get("amount"))
    return records.output(entity, built.source, TARGET_TYPE, credit_number=entity.get("credit_number"),
                          amount=f"{money[0]:f}" if money else None,
                          currency_code=str(entity.get("currency_code") or built.body["currency_code"]))


def _lookup(built: records.Sourced, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    return (yield from records.listed(ctx, PATH, "credit_notes", {"clientid": str(built.body["clientid"])}))


CREATE_CREDIT_NOTE = create_action(
    name=ACTION_NAME,
    summary="Creates a FreshBooks credit note (the client's credit) with its lines and taxes, once per "
            "source credit note or refund.",
    what="a FreshBooks credit note",
    lookup_keys="client, found by the source id in its notes and the date",
    schemas=Schemas(input=INPUT_SCHEMA, output=OUTPUT_SCHEMA, sample=SAMPLE,
                    sample_response={"response": {"result": {"credit_note": {
                        "id": 4411, "clientid": 73625, "create_date": "2026-11-30", "credit_number": "CN00001",
                        "currency_code": "EUR", "amount": {"amount": "59.40", "code": "EUR"},
                        "notes": api.mark(SAMPLE["source_id"]), "vis_state": 0}}}}),
    steps=CreateSteps(
        build=build,
        request=lambda built, ctx: api.create(ctx, PATH, KIND, built.body),
        classify=classify,
        read=lambda response, built: _output(api.written(response, KIND), built),
        read_stored=_output,
        lookup=_lookup,
        matches=lambda stored, built, ctx: (api.marked(stored.get("notes"), built.source)
                                            and stored.get("create_date") == built.body["create_date"]),
    ),
    undo=records.soft_delete(PATH, KIND),
    idempotency="lookup",
)
