"""``xero.allocate_credit_note``: apply a sales credit note to an invoice of the same contact.

``PUT /CreditNotes/{CreditNoteID}/Allocations`` with ``{"Allocations": [{"Invoice":
{"InvoiceID"}, "Amount", "Date"}]}``, ``summarizeErrors=false`` and the step's
``Idempotency-Key`` (https://developer.xero.com/documentation/api/accounting/creditnotes,
"Allocating credit notes"). Found again on the credit note itself (``GET
/CreditNotes/{id}`` lists its ``Allocations``), matched on invoice, amount and date. Undo is
``DELETE /CreditNotes/{id}/Allocations/{AllocationID}``; the step's output id names both,
``<CreditNoteID>/<AllocationID>``, since an allocation is reached only through its note.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, answer_decimal
from ledgerlink.contract.problems import begin, date
from ledgerlink.contract.writes import CreateSteps, Schemas, create_action
from ledgerlink.errors import InputError

from . import api
from .errors import classify
from .fields import GUID, MONEY, amount_in_xero, string

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a Xero credit note allocated to an invoice",
    "type": "object",
    "required": ["CreditNoteID", "InvoiceID", "Amount", "Date", "CurrencyCode"],
    "additionalProperties": False,
    "properties": {
        "CreditNoteID": string("The credit note applied (xero.create_credit_note's id).", pattern=GUID),
        "InvoiceID": string("The invoice it reduces (same contact, same currency).", pattern=GUID),
        "Amount": {**MONEY, "description": "How much of the credit is applied (at most what both have left)."},
        "Date": string("The allocation date, YYYY-MM-DD.", format="date"),
        "CurrencyCode": string("The documents' currency, ISO 4217 (checks the amount's decimals).",
                               pattern="^[A-Za-z]{3}$"),
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id"],
    "properties": {"id": string("<CreditNoteID>/<AllocationID>: the allocation, reached through its credit note."),
                   "amount": string("The amount Xero allocated.")},
}

SAMPLE = {"CreditNoteID": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b", "InvoiceID": "6a1c4f52-7d7e-4d5b-9a3c-4b1a2f0e9d11",
          "Amount": "49.00", "Date": "2026-11-30", "CurrencyCode": "USD"}


@dataclass(frozen=True)
class BuiltAllocation:
    note: str
    body: dict[str, Any]
    total: Decimal


def build(data: Mapping[str, Any], ctx: ActionContext) -> BuiltAllocation:
    problems = begin("xero.allocate_credit_note", "a Xero allocation", data, INPUT_SCHEMA["properties"])
    code_ = str(data.get("CurrencyCode", "")).upper()
    applied = amount_in_xero(data.get("Amount"), code_, "/Amount", "Amount", problems)
    body = {"Invoice": {"InvoiceID": str(data.get("InvoiceID", ""))}, "Amount": applied,
            "Date": date(data.get("Date"), "/Date", problems)}
    problems.raise_if_any()
    return BuiltAllocation(note=str(data["CreditNoteID"]), body=body, total=applied or Decimal(0))


def _request(built: BuiltAllocation, ctx: ActionContext) -> Request:
    return Request("PUT", f"{api.url(ctx, 'CreditNotes', built.note)}/Allocations",
                   json={"Allocations": [built.body]}, params={"summarizeErrors": "false"},
                   headers={**api.JSON_HEADERS, "Idempotency-Key": api.idempotency_key(ctx, "xero.allocate_credit_note")})


def _output(allocation: Mapping[str, Any], built: BuiltAllocation) -> dict[str, Any]:
    answered = answer_decimal(allocation.get("Amount"))
    return {"id": f"{built.note}/{allocation['AllocationID']}",
            "amount": str(answered if answered is not None else built.total)}


def _allocations(built: BuiltAllocation, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    notes = api.elements((yield api.read(ctx, "CreditNotes", built.note)), "CreditNotes", "credit note")
    listed = notes[0].get("Allocations") if notes else None
    return [dict(item) for item in listed or [] if isinstance(item, Mapping)]


def _same(stored: Mapping[str, Any], built: BuiltAllocation, ctx: ActionContext) -> bool:
    return (not stored.get("IsDeleted") and bool(stored.get("AllocationID"))
            and (stored.get("Invoice") or {}).get("InvoiceID") == built.body["Invoice"]["InvoiceID"]
            and answer_decimal(stored.get("Amount")) == built.total
            and str(api.xero_date(stored.get("Date"))) == built.body["Date"])


def undo_allocation(target: str, ctx: ActionContext) -> Generator[Request, Response, dict[str, str]]:
    """``DELETE /CreditNotes/{note}/Allocations/{allocation}``; already gone counts as undone."""
    note, _, allocation = target.partition("/")
    if not allocation:
        raise InputError(f"{target!r} is not <CreditNoteID>/<AllocationID>")
    answer = yield Request("DELETE", f"{api.url(ctx, 'CreditNotes', note)}/Allocations/{api.checked_id(allocation)}",
                           headers={"Accept": "application/json"})
    if answer.status == 404:
        return {"id": target, "status": "already gone"}
    error = classify(answer)
    if error is not None:
        raise error
    return {"id": target, "status": "deleted"}


ACTION = create_action(
    name="xero.allocate_credit_note",
    summary="Applies a Xero sales credit note to an invoice of the same contact, exactly once.",
    what="a Xero credit note allocation", lookup_keys="credit note",
    schemas=Schemas(input=INPUT_SCHEMA, output=OUTPUT_SCHEMA, sample=SAMPLE,
                    sample_response={"Allocations": [{"AllocationID": "b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                                                      "Amount": "49.00", "Date": "/Date(1795996800000+0000)/"}]}),
    steps=CreateSteps(build=build, request=_request, classify=classify,
                      read=lambda response, built: _output(api.created(response, "Allocations", "allocation",
                                                                       "AllocationID"), built),
                      read_stored=_output, lookup=_allocations, matches=_same),
    undo=undo_allocation,
    # an allocation changes both documents (the credit left, the amount due): their events are ours
    changes=lambda input, output: [("CreditNote", str(input["CreditNoteID"])), ("Invoice", str(input["InvoiceID"]))],
)
