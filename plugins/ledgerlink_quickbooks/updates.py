"""Changing what exists in QuickBooks: ``void_invoice``, ``update_invoice``, ``update_customer``.

Every change of an existing QBO entity carries its ``Id`` and its current ``SyncToken``
(Intuit docs, "Update"); a token another writer has moved on is refused with the Stale Object
fault, code 5010. :func:`write` is the one way this connector changes an entity, for the
actions here, the item undo of :mod:`.items` and any update action to come:

1. read the entity (``GET …/<endpoint>/<Id>``) for its ``SyncToken``;
2. ask a ``plan`` what to send given what is there — None when it is so already (the
   invoice is void, the fields hold those values), then nothing is written;
3. ``POST …/<endpoint>`` (``?operation=void`` for a void) with ``Id``, ``SyncToken`` and the
   plan's fields, ``"sparse": true`` for an update so QuickBooks keeps every field not sent;
4. on 5010, read again, plan again and write once more; a second 5010 is the error.

The write's ``requestid`` is the step's idempotency key, so a resent write is answered
from QuickBooks' memory instead of applied twice. The retry after a 5010 uses a requestid
derived from it (:func:`retry_request_id`): QuickBooks answers a requestid it has seen
with its first answer, and that was the 5010.

:func:`sparse_update` is the common case: send only the fields given, and nothing at all
when the entity already holds them, so a replayed step is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Action, ActionContext, Problems, Request, Response
from ledgerlink.errors import InputError, VendorError

from . import common
from .api import MAX_REQUEST_ID, classify, entity_url, params
from .common import JSON_HEADERS

#: ``Error.code`` of QBO's Stale Object fault: the SyncToken sent is not the current one
STALE_CODE = "5010"
#: ``Error.code`` of Object Not Found
NOT_FOUND_CODE = "610"
#: writes after the first one that a stale SyncToken earns (read again, write again)
STALE_RETRIES = 1

_ID = re.compile(r"^[A-Za-z0-9-]{1,50}$")
ID_SCHEMA_PATTERN = _ID.pattern

#: ``plan(current) -> fields to send, or None``: what a write changes, given the entity as read
Plan = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Written:
    """What :func:`write` did: the entity as QuickBooks last answered it, whether a write was
    made (False: the plan found nothing to do), and how many writes were sent."""

    entity: dict[str, Any]
    written: bool
    writes: int


def id_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a QuickBooks entity Id (it becomes a path segment), or None."""
    if isinstance(value, str) and _ID.fullmatch(value):
        return None
    return (f"must be the QuickBooks Id of the entity as a string such as \"130\" (letters, "
            f"digits and '-'), got {contract.show(value)}")


def entity_id(value: Any, action: str, what: str = "Id") -> str:
    """A QuickBooks entity Id from the input, checked; else an :class:`InputError`."""
    problem = id_problem(value)
    if problem is not None:
        raise InputError(f"{action}: {what} {problem}")
    return value


def is_stale(error: VendorError | None) -> bool:
    """True for QuickBooks' Stale Object fault (5010): the SyncToken sent is outdated."""
    return error is not None and (error.vendor_code == STALE_CODE
                                  or f"code {STALE_CODE}:" in error.message)


def is_not_found(error: VendorError | None) -> bool:
    """True for QuickBooks' Object Not Found fault (610)."""
    return error is not None and error.vendor_code == NOT_FOUND_CODE


def retry_request_id(request_id: str, attempt: int) -> str:
    """The requestid of write number ``attempt`` (0 is the first) for a step's ``request_id``.

    Derived, so that a replayed step sends the same ids again, and at most
    :data:`~.api.MAX_REQUEST_ID` characters long.
    """
    if attempt == 0:
        return request_id
    suffix = f"-r{attempt}"
    if len(request_id) + len(suffix) <= MAX_REQUEST_ID:
        return request_id + suffix
    digest = hashlib.sha256(request_id.encode("utf-8")).hexdigest()
    return digest[:MAX_REQUEST_ID - len(suffix)] + suffix


def _entity(response: Response, entity: str) -> dict[str, Any]:
    found = response.json.get(entity) if isinstance(response.json, Mapping) else None
    if not isinstance(found, Mapping) or not found.get("Id"):
        raise VendorError(f"QuickBooks answered HTTP {response.status} without the {entity}",
                          kind="permanent", status=response.status)
    return dict(found)


def read(ctx: ActionContext, entity: str, endpoint: str,
         target: str) -> Generator[Request, Response, dict[str, Any]]:
    """``GET …/<endpoint>/<target>``: the entity as it is now (a fault raises its VendorError)."""
    url = entity_url(ctx.connection.settings, endpoint)
    response = yield Request(method="GET", url=f"{url}/{target}", params=params(None),
                             headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    return _entity(response, entity)


def write(ctx: ActionContext, action: str, entity: str, endpoint: str, target: str, plan: Plan, *,
          operation: str | None = None, sparse: bool = True,
          current: Mapping[str, Any] | None = None) -> Generator[Request, Response, Written]:
    """Read ``entity`` ``target`` for its SyncToken (unless ``current`` was just read), write
    what ``plan`` says, and on a stale SyncToken (5010) read again and write once more.

    ``operation`` is QBO's ``?operation=`` (``"void"``); ``sparse`` adds ``"sparse": true``
    (QuickBooks keeps every field not sent). The requestid is the step's idempotency key
    (checked by :func:`.common.request_id`). A fault other than 5010, or a second 5010,
    raises its :class:`VendorError`.
    """
    request_id = common.request_id(ctx.idempotency_key, action)
    url = entity_url(ctx.connection.settings, endpoint)
    extra = {"operation": operation} if operation else {}
    if current is None:
        current = yield from read(ctx, entity, endpoint, target)
    attempt = 0
    while True:
        fields = plan(current)
        if fields is None:
            return Written(dict(current), written=False, writes=attempt)
        body: dict[str, Any] = {"Id": str(current.get("Id", target)),
                                "SyncToken": str(current.get("SyncToken", "0"))}
        if sparse:
            body["sparse"] = True
        body.update(fields)
        response = yield Request(method="POST", url=url,
                                 params={**params(retry_request_id(request_id, attempt)), **extra},
                                 headers=dict(JSON_HEADERS), json=body)
        error = classify(response)
        if error is None:
            return Written(_entity(response, entity), written=True, writes=attempt + 1)
        if not is_stale(error):
            raise error
        if attempt == STALE_RETRIES:
            raise VendorError(f"{action}: the {entity} {target} changed again while it was being "
                              f"written ({attempt + 1} writes, each with the SyncToken just read); "
                              f"{error.message}", kind=error.kind, status=error.http_status,
                              vendor_code=error.vendor_code)
        current = yield from read(ctx, entity, endpoint, target)
        attempt += 1


def same(current: Any, wanted: Any) -> bool:
    """Whether an entity's field already holds ``wanted``: objects compare by the keys given
    (``{"Address": …}`` against an address with more keys), other values exactly."""
    if isinstance(wanted, Mapping):
        return isinstance(current, Mapping) and all(same(current.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, bool) or isinstance(current, bool):
        return current is wanted
    return current == wanted


def sparse_update(ctx: ActionContext, action: str, entity: str, endpoint: str, target: str,
                  fields: Mapping[str, Any]) -> Generator[Request, Response, Written]:
    """Send only ``fields`` (a sparse update), retried once on a stale SyncToken; nothing
    when the entity already holds every one of them."""
    def plan(current: Mapping[str, Any]) -> dict[str, Any] | None:
        if all(same(current.get(key), value) for key, value in fields.items()):
            return None
        return dict(fields)

    return (yield from write(ctx, action, entity, endpoint, target, plan))


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


def _text(name: str, limit: int, *, wrap: str | None = None, empty: bool = True) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        text = common.text(value, f"/{name}", name, limit, problems)
        if text is None:
            return None
        if not empty and not text.strip():
            problems.add(f"/{name}", f"{name} is empty; leave it out to keep the current one")
            return None
        return {wrap: text} if wrap else text
    return read_


def _date(name: str) -> Callable[[Any, Problems], Any]:
    return lambda value, problems: contract.date(value, f"/{name}", problems)


def _email(name: str) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        text = common.text(value, f"/{name}", name, 100, problems)
        if text is None:
            return None
        if "@" not in text or text != text.strip():
            problems.add(f"/{name}", f"{name} must be an email address such as "
                                     f"\"billing@example.com\", got {contract.show(value)}")
            return None
        return {"Address": text}
    return read_


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        if value not in choices:
            problems.add(f"/{name}", f"must be one of {', '.join(choices)}, got {contract.show(value)}")
            return None
        return value
    return read_


def _boolean(name: str) -> Callable[[Any, Problems], Any]:
    def read_(value: Any, problems: Problems) -> Any:
        if not isinstance(value, bool):
            problems.add(f"/{name}", f"{name} must be true or false, got {contract.show(value)}")
            return None
        return value
    return read_


def _fields(action: str, what: str, data: Any, fields: tuple[Field, ...]) -> tuple[str, dict[str, Any]]:
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


def _input_schema(title: str, what: str, ref: str | None, fields: tuple[Field, ...]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "required": ["Id"],
        "minProperties": 2,
        "additionalProperties": False,
        "properties": {"Id": _id_schema(what, ref), **{f.name: dict(f.schema) for f in fields}},
    }


def _output_schema(extra: Mapping[str, Any]) -> dict[str, Any]:
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
    Field("DocNumber", _text("DocNumber", common.MAX_DOC_NUMBER, empty=False),
          {"type": "string", "minLength": 1, "maxLength": common.MAX_DOC_NUMBER,
           "description": "The new invoice number (at most 21 characters; QuickBooks may refuse "
                          "one already used)."}),
    Field("PrivateNote", _text("PrivateNote", common.MAX_TEXT),
          {"type": "string", "maxLength": common.MAX_TEXT,
           "description": "The new private note (not shown to the customer); replaces the "
                          "current one."}),
    Field("CustomerMemo", _text("CustomerMemo", common.MAX_MEMO, wrap="value"),
          {"type": "string", "maxLength": common.MAX_MEMO,
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
    target, fields = _fields(action, "a QuickBooks invoice update", input, INVOICE_FIELDS)
    done = yield from sparse_update(ctx, action, "Invoice", "invoice", target, fields)
    return _updated(done, fields, {"doc_number": done.entity.get("DocNumber")})


# --- update_customer -----------------------------------------------------------------------------

CUSTOMER_FIELDS = (
    Field("DisplayName", _text("DisplayName", 500, empty=False),
          {"type": "string", "minLength": 1, "maxLength": 500,
           "description": "The new display name (unique among customers, vendors and employees; "
                          "QuickBooks refuses one in use, code 6240)."}),
    Field("PrimaryEmailAddr", _email("PrimaryEmailAddr"),
          {"type": "string", "maxLength": 100, "description": "The new email address."}),
    Field("CompanyName", _text("CompanyName", 100),
          {"type": "string", "maxLength": 100, "description": "The new company name."}),
    Field("Notes", _text("Notes", 2000),
          {"type": "string", "maxLength": 2000,
           "description": "The new free-form notes about the customer; replace the current ones."}),
    Field("Active", _boolean("Active"),
          {"type": "boolean",
           "description": "false makes the customer inactive (QuickBooks' way of deleting it), "
                          "true active again."}),
)

CUSTOMER_SAMPLE = {"Id": "58", "PrimaryEmailAddr": "accounts@birds.example", "Notes": "Pays by card"}


def update_customer(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Change the fields given of a customer (a sparse update), retried once on a stale SyncToken."""
    action = UPDATE_CUSTOMER_NAME
    target, fields = _fields(action, "a QuickBooks customer update", input, CUSTOMER_FIELDS)
    done = yield from sparse_update(ctx, action, "Customer", "customer", target, fields)
    return _updated(done, fields, {"display_name": done.entity.get("DisplayName"),
                                   "active": done.entity.get("Active", True) is not False})


def _updated(done: Written, fields: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
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


def _posted(request: Request, current: Mapping[str, Any]) -> dict[str, Any]:
    body = request.json if isinstance(request.json, Mapping) else {}
    changed = {k: v for k, v in body.items() if k not in ("Id", "SyncToken", "sparse")}
    return {**current, **changed, "SyncToken": str(int(current["SyncToken"]) + 1)}


def _void_sample(request: Request) -> Response:
    invoice = _money(_SAMPLE_INVOICE)
    if request.method == "GET":
        return Response(status=200, json={"Invoice": invoice, "time": _TIME})
    voided = _posted(request, invoice)
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
    return Response(status=200, json={"Invoice": _posted(request, invoice), "time": _TIME})


def _customer_sample(request: Request) -> Response:
    if request.method == "GET":
        return Response(status=200, json={"Customer": dict(_SAMPLE_CUSTOMER), "time": _TIME})
    return Response(status=200, json={"Customer": _posted(request, _SAMPLE_CUSTOMER), "time": _TIME})


VOID_INVOICE = Action(
    name=VOID_INVOICE_NAME,
    summary="Void a QuickBooks invoice (amounts zeroed, the invoice kept): read its SyncToken, void; "
            "void already → nothing sent; a void cannot be undone.",
    input_schema=VOID_INPUT_SCHEMA, output_schema=VOID_OUTPUT_SCHEMA, sample={"Id": "130"},
    perform=void_invoice, sample_response=_void_sample, idempotency="key",
    # a void cannot be undone: QuickBooks has no "unvoid"; recreate the invoice instead
    undo=None)

UPDATE_INVOICE = Action(
    name=UPDATE_INVOICE_NAME,
    summary="Change fields of a QuickBooks invoice (due date, number, notes, email): a sparse "
            "update sending only those, retried once on a stale SyncToken.",
    input_schema=_input_schema("update a QuickBooks invoice (sparse)", "invoice to change", None,
                               INVOICE_FIELDS),
    output_schema=_output_schema({"doc_number": {"type": "string",
                                                 "description": "The invoice number after the "
                                                                "update."}}),
    sample=INVOICE_SAMPLE, perform=update_invoice, sample_response=_invoice_sample,
    idempotency="key")

UPDATE_CUSTOMER = Action(
    name=UPDATE_CUSTOMER_NAME,
    summary="Change fields of a QuickBooks customer (name, email, company, notes, active): a "
            "sparse update sending only those, retried once on a stale SyncToken.",
    input_schema=_input_schema("update a QuickBooks customer (sparse)", "customer to change",
                               "Customer", CUSTOMER_FIELDS),
    output_schema=_output_schema({
        "display_name": {"type": "string", "description": "The customer's DisplayName after "
                                                          "the update."},
        "active": {"type": "boolean", "description": "Whether the customer is active after the "
                                                    "update."}}),
    sample=CUSTOMER_SAMPLE, perform=update_customer, sample_response=_customer_sample,
    idempotency="key")

ACTIONS = (VOID_INVOICE, UPDATE_INVOICE, UPDATE_CUSTOMER)

__all__ = ["ACTIONS", "NOT_FOUND_CODE", "STALE_CODE", "STALE_RETRIES", "UPDATE_CUSTOMER",
           "UPDATE_INVOICE", "VOID_INVOICE", "Written", "entity_id", "id_problem", "is_not_found",
           "is_stale", "is_void", "read", "retry_request_id", "same", "sparse_update", "write"]
