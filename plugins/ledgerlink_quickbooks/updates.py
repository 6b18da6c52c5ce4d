"""The update actions: ``void_invoice``, ``update_invoice``, ``update_customer``.

Each reads its input (every problem at once), then changes the entity by the SyncToken
read-modify-write of :mod:`.synctoken`, which sends nothing when it is so already.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Action, ActionContext, Problems, Request, Response
from ledgerlink.errors import InputError

from .fields import MAX_DOC_NUMBER, MAX_MEMO, MAX_TEXT, text
from .synctoken import ID_SCHEMA_PATTERN, Written, entity_id, id_problem, sparse_update, write

# --- the input ---------------------------------------------------------------------------------

def _id_schema(what: str, ref: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "pattern": ID_SCHEMA_PATTERN,
                              "description": f"The QuickBooks Id of the {what} (e.g. from the output "
                                             f"of the step that created it, or a lookup table)."}
    if ref:
        schema["x-ledgerlink-ref"] = ref
    return schema


@dataclass(frozen=True)
class Field:
    """One updatable field: how the input names it, what QuickBooks calls it, and its reading."""

    name: str
    read: Callable[[Any, Problems], Any]
    schema: Mapping[str, Any]


def text_field(name: str, limit: int, *, wrap: str | None = None, empty: bool = True) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        kept = text(value, f"/{name}", name, limit, problems)
        if kept is None:
            return None
        if not empty and not kept.strip():
            problems.add(f"/{name}", f"{name} is empty; leave it out to keep the current one")
            return None
        return {wrap: kept} if wrap else kept
    return read_


def _date(name: str) -> Callable[[Any, Problems], Any]:
    return lambda value, problems: contract.date(value, f"/{name}", problems)


def _email(name: str) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        address = text(value, f"/{name}", name, 100, problems)
        if address is None:
            return None
        if "@" not in address or address != address.strip():
            problems.add(f"/{name}", f"{name} must be an email address such as "
                                     f"\"billing@example.com\", got {contract.show(value)}")
            return None
        return {"Address": address}
    return read_


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        if value not in choices:
            problems.add(f"/{name}", f"must be one of {', '.join(choices)}, got {contract.show(value)}")
            return None
        return value
    return read_


def boolean_field(name: str) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        if not isinstance(value, bool):
            problems.add(f"/{name}", f"{name} must be true or false, got {contract.show(value)}")
            return None
        return value
    return read_


def update_fields(action: str, what: str, data: Any, fields: tuple[Field, ...]) -> tuple[str, dict[str, Any]]:
    """The Id and the QBO fields of an update input; every problem at once as an InputError."""
    problems = Problems(action, what)
    if not isinstance(data, Mapping):
        problems.add("/", f"the input must be an object, got {contract.show(data)}")
        problems.raise_if_any()
    contract.unknown_keys(data, ("Id",) + tuple(f.name for f in fields), "", "input key", problems)
    target = data.get("Id")
    if "Id" not in data:
        problems.add("/Id", "missing; give the QuickBooks Id of the entity to change")
    elif id_problem(target) is not None:
        problems.add("/Id", f"Id {id_problem(target)}")
    out: dict[str, Any] = {}
    for field in fields:
        if field.name in data:
            value = field.read(data[field.name], problems)
            if value is not None:
                out[field.name] = value
    if not any(field.name in data for field in fields):
        problems.add("/", f"no field to change; give at least one of "
                          f"{', '.join(f.name for f in fields)}")
    problems.raise_if_any()
    return str(target), out


def update_input_schema(title: str, what: str, ref: str | None, fields: tuple[Field, ...]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "required": ["Id"],
        "minProperties": 2,
        "additionalProperties": False,
        "properties": {"Id": _id_schema(what, ref), **{f.name: dict(f.schema) for f in fields}},
    }


def update_output_schema(extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["id", "sync_token", "status", "changed"],
        "properties": {
            "id": {"type": "string", "description": "The QuickBooks Id of the entity."},
            "sync_token": {"type": "string",
                           "description": "Its SyncToken after the update (the version a later "
                                          "update must name)."},
            "status": {"enum": ["updated", "unchanged"],
                       "description": "\"updated\": QuickBooks took the change; \"unchanged\": "
                                      "the entity already held every value given, so nothing "
                                      "was sent."},
            "changed": {"type": "array", "items": {"type": "string"},
                        "description": "The fields sent (all those given; empty when unchanged)."},
            **extra,
        },
    }


# --- update_invoice ------------------------------------------------------------------------------

INVOICE_FIELDS = (
    Field("DueDate", _date("DueDate"),
          {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
           "description": "The new due date, YYYY-MM-DD."}),
    Field("TxnDate", _date("TxnDate"),
          {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
           "description": "The new invoice date, YYYY-MM-DD."}),
    Field("DocNumber", text_field("DocNumber", MAX_DOC_NUMBER, empty=False),
          {"type": "string", "minLength": 1, "maxLength": MAX_DOC_NUMBER,
           "description": "The new invoice number (at most 21 characters; QuickBooks may refuse "
                          "one already used)."}),
    Field("PrivateNote", text_field("PrivateNote", MAX_TEXT),
          {"type": "string", "maxLength": MAX_TEXT,
           "description": "The new private note (not shown to the customer); replaces the "
                          "current one."}),
    Field("CustomerMemo", text_field("CustomerMemo", MAX_MEMO, wrap="value"),
          {"type": "string", "maxLength": MAX_MEMO,
           "description": "The new message to the customer, printed on the invoice."}),
    Field("EmailStatus", _choice("EmailStatus", ("NotSet", "NeedToSend", "EmailSent")),
          {"enum": ["NotSet", "NeedToSend", "EmailSent"],
           "description": "Whether QuickBooks should email the invoice: NeedToSend queues it "
                          "(the invoice then needs a BillEmail), EmailSent marks it sent, "
                          "NotSet clears it."}),
    Field("BillEmail", _email("BillEmail"),
          {"type": "string", "maxLength": 100,
           "description": "The address the invoice is emailed to, e.g. the Stripe customer's "
                          "email."}),
)

INVOICE_SAMPLE = {"Id": "130", "DueDate": "2024-04-30",
                  "PrivateNote": "Due date moved: Stripe invoice in_1OtJ2bK2 was extended"}


def update_invoice(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Change the fields given of an invoice (a sparse update), retried once on a stale SyncToken."""
    action = UPDATE_INVOICE_NAME
    target, fields = update_fields(action, "a QuickBooks invoice update", input, INVOICE_FIELDS)
    done = yield from sparse_update(ctx, action, "Invoice", "invoice", target, fields)
    return update_output(done, fields, {"doc_number": done.entity.get("DocNumber")})


# --- update_customer -----------------------------------------------------------------------------

CUSTOMER_FIELDS = (
    Field("DisplayName", text_field("DisplayName", 500, empty=False),
          {"type": "string", "minLength": 1, "maxLength": 500,
           "description": "The new display name (unique among customers, vendors and employees; "
                          "QuickBooks refuses one in use, code 6240)."}),
    Field("PrimaryEmailAddr", _email("PrimaryEmailAddr"),
          {"type": "string", "maxLength": 100, "description": "The new email address."}),
    Field("CompanyName", text_field("CompanyName", 100),
          {"type": "string", "maxLength": 100, "description": "The new company name."}),
    Field("Notes", text_field("Notes", 2000),
          {"type": "string", "maxLength": 2000,
           "description": "The new free-form notes about the customer; replace the current ones."}),
    Field("Active", boolean_field("Active"),
          {"type": "boolean",
           "description": "false makes the customer inactive (QuickBooks' way of deleting it), "
                          "true active again."}),
)

CUSTOMER_SAMPLE = {"Id": "58", "PrimaryEmailAddr": "accounts@birds.example", "Notes": "Pays by card"}


def update_customer(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Change the fields given of a customer (a sparse update), retried once on a stale SyncToken."""
    action = UPDATE_CUSTOMER_NAME
    target, fields = update_fields(action, "a QuickBooks customer update", input, CUSTOMER_FIELDS)
    done = yield from sparse_update(ctx, action, "Customer", "customer", target, fields)
    return update_output(done, fields, {"display_name": done.entity.get("DisplayName"),
                                   "active": done.entity.get("Active", True) is not False})


def update_output(done: Written, fields: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = {"id": str(done.entity["Id"]), "sync_token": str(done.entity.get("SyncToken", "0")),
           "status": "updated" if done.written else "unchanged",
           "changed": sorted(fields) if done.written else []}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


# --- void_invoice ----------------------------------------------------------------------------------

def _decimal(value: Any) -> Decimal:
    found = contract.answer_decimal(value)
    return found if found is not None else Decimal(0)


def is_void(invoice: Mapping[str, Any]) -> bool:
    """Whether QuickBooks voided this invoice: QBO marks a void by "Voided" at the start of the
    PrivateNote and zero amounts (it has no void flag), so both are required."""
    note = invoice.get("PrivateNote")
    return (isinstance(note, str) and note.startswith("Voided")
            and _decimal(invoice.get("TotalAmt", 0)) == 0
            and _decimal(invoice.get("Balance", 0)) == 0)


def void_invoice(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Void an invoice: read its SyncToken, ``POST …/invoice?operation=void``; an invoice
    void already is left alone; a stale SyncToken is read again and retried once."""
    action = VOID_INVOICE_NAME
    if not isinstance(input, Mapping) or set(input) - {"Id"}:
        extra = sorted(set(input) - {"Id"}) if isinstance(input, Mapping) else []
        raise InputError(f"{action}: the input is {{\"Id\": \"<invoice Id>\"}}"
                         + (f"; unknown key(s) {', '.join(map(repr, extra))}" if extra else ""))
    target = entity_id(input.get("Id"), action)
    done = yield from write(ctx, action, "Invoice", "invoice", target,
                            lambda current: None if is_void(current) else {},
                            operation="void", sparse=False)
    invoice = done.entity
    out: dict[str, Any] = {"id": str(invoice["Id"]), "sync_token": str(invoice.get("SyncToken", "0")),
                           "status": "voided" if done.written else "already voided",
                           "total": _decimal(invoice.get("TotalAmt", 0))}
    if isinstance(invoice.get("DocNumber"), str) and invoice["DocNumber"]:
        out["doc_number"] = invoice["DocNumber"]
    return out


# --- the actions ---------------------------------------------------------------------------------

VOID_INVOICE_NAME = "quickbooks.void_invoice"
UPDATE_INVOICE_NAME = "quickbooks.update_invoice"
UPDATE_CUSTOMER_NAME = "quickbooks.update_customer"

VOID_INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "void a QuickBooks invoice",
    "type": "object",
    "required": ["Id"],
    "additionalProperties": False,
    "properties": {"Id": _id_schema("invoice to void")},
}

VOID_OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "sync_token", "status", "total"],
    "properties": {
        "id": {"type": "string", "description": "The QuickBooks Id of the invoice."},
        "sync_token": {"type": "string", "description": "Its SyncToken after the void."},
        "status": {"enum": ["voided", "already voided"],
                   "description": "\"voided\": voided now; \"already voided\": it was void "
                                  "before, so no second void was sent."},
        "total": {"type": "number",
                  "description": "The invoice total after the void as an exact Decimal (0: a "
                                 "void zeroes every amount)."},
        "doc_number": {"type": "string", "description": "The invoice number, kept by the void."},
    },
}

_TIME = "2024-03-15T10:00:00.000-07:00"
_SAMPLE_INVOICE = {
    "Id": "130", "SyncToken": "3", "DocNumber": "1037", "TxnDate": "2024-03-15",
    "DueDate": "2024-04-14", "CustomerRef": {"value": "58", "name": "Amy's Bird Sanctuary"},
    "PrivateNote": "Stripe invoice in_1OtJ2bK2", "TotalAmt": "10.00", "Balance": "10.00",
    "Line": [{"Id": "1", "LineNum": 1, "Description": "Bird food subscription", "Amount": "10.00",
              "DetailType": "SalesItemLineDetail",
              "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"},
                                      "UnitPrice": "10.00", "Qty": 1}}],
    "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
}
_SAMPLE_CUSTOMER = {
    "Id": "58", "SyncToken": "2", "DisplayName": "Amy's Bird Sanctuary",
    "CompanyName": "Amy's Bird Sanctuary", "PrimaryEmailAddr": {"Address": "birds@intuit.com"},
    "Active": True, "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
}


def _money(entity: dict[str, Any]) -> dict[str, Any]:
    """A sample entity with its amounts as exact decimals, as the host reads QBO's JSON."""
    out = dict(entity)
    for key in ("TotalAmt", "Balance"):
        if key in out:
            out[key] = Decimal(out[key])
    if "Line" in out:
        out["Line"] = [{**line, "Amount": Decimal(line["Amount"]),
                        "SalesItemLineDetail": {**line["SalesItemLineDetail"],
                                                "UnitPrice": Decimal(line["SalesItemLineDetail"]["UnitPrice"])}}
                       for line in out["Line"]]
    return out


def posted(request: Request, current: Mapping[str, Any]) -> dict[str, Any]:
    body = request.json if isinstance(request.json, Mapping) else {}
    changed = {k: v for k, v in body.items() if k not in ("Id", "SyncToken", "sparse")}
    return {**current, **changed, "SyncToken": str(int(current["SyncToken"]) + 1)}


def _void_sample(request: Request) -> Response:
    invoice = _money(_SAMPLE_INVOICE)
    if request.method == "GET":
        return Response(status=200, json={"Invoice": invoice, "time": _TIME})
    voided = posted(request, invoice)
    voided.update({"TotalAmt": Decimal(0), "Balance": Decimal(0),
                   "PrivateNote": f"Voided - {invoice['PrivateNote']}",
                   "Line": [{**line, "Amount": Decimal(0),
                             "SalesItemLineDetail": {"ItemRef": line["SalesItemLineDetail"]["ItemRef"]}}
                            for line in invoice["Line"]]})
    return Response(status=200, json={"Invoice": voided, "time": _TIME})


def _invoice_sample(request: Request) -> Response:
    invoice = _money(_SAMPLE_INVOICE)
    if request.method == "GET":
        return Response(status=200, json={"Invoice": invoice, "time": _TIME})
    return Response(status=200, json={"Invoice": posted(request, invoice), "time": _TIME})


def _customer_sample(request: Request) -> Response:
    if request.method == "GET":
        return Response(status=200, json={"Customer": dict(_SAMPLE_CUSTOMER), "time": _TIME})
    return Response(status=200, json={"Customer": posted(request, _SAMPLE_CUSTOMER), "time": _TIME})


VOID_INVOICE = Action(
    name=VOID_INVOICE_NAME,
    summary="Void a QuickBooks invoice (amounts zeroed, the invoice kept): read its SyncToken, void; "
            "void already → nothing sent; a void cannot be undone.",
    input_schema=VOID_INPUT_SCHEMA, output_schema=VOID_OUTPUT_SCHEMA, sample={"Id": "130"},
    perform=void_invoice, sample_response=_void_sample, idempotency="key", entity="Invoice",
    # a void cannot be undone: QuickBooks has no "unvoid"; recreate the invoice instead
    undo=None)

UPDATE_INVOICE = Action(
    name=UPDATE_INVOICE_NAME,
    summary="Change fields of a QuickBooks invoice (due date, number, notes, email): a sparse "
            "update sending only those, retried once on a stale SyncToken.",
    input_schema=update_input_schema("update a QuickBooks invoice (sparse)", "invoice to change", None,
                               INVOICE_FIELDS),
    output_schema=update_output_schema({"doc_number": {"type": "string",
                                                 "description": "The invoice number after the "
                                                                "update."}}),
    sample=INVOICE_SAMPLE, perform=update_invoice, sample_response=_invoice_sample,
    idempotency="key", entity="Invoice")

UPDATE_CUSTOMER = Action(
    name=UPDATE_CUSTOMER_NAME,
    summary="Change fields of a QuickBooks customer (name, email, company, notes, active): a "
            "sparse update sending only those, retried once on a stale SyncToken.",
    input_schema=update_input_schema("update a QuickBooks customer (sparse)", "customer to change",
                               "Customer", CUSTOMER_FIELDS),
    output_schema=update_output_schema({
        "display_name": {"type": "string", "description": "The customer's DisplayName after "
                                                          "the update."},
        "active": {"type": "boolean", "description": "Whether the customer is active after the "
                                                    "update."}}),
    sample=CUSTOMER_SAMPLE, perform=update_customer, sample_response=_customer_sample,
    idempotency="key", entity="Customer")

ACTIONS = (VOID_INVOICE, UPDATE_INVOICE, UPDATE_CUSTOMER)

__all__ = ["ACTIONS", "CUSTOMER_FIELDS", "INVOICE_FIELDS", "UPDATE_CUSTOMER", "UPDATE_INVOICE",
           "VOID_INVOICE", "Field", "is_void", "update_customer", "update_invoice", "void_invoice"]
