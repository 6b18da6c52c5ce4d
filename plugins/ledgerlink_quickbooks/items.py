"""``quickbooks.find_item`` and ``quickbooks.find_or_create_item``.

The QuickBooks item (product or service) a sales line needs is found, in this order:

1. when the input names a ``source_id`` (e.g. Stripe's ``prod_…`` or ``price_…``), the links
   table (``LinkQuery``): the item ledgerlink found or created for it before — no request;
2. a query by ``Name`` (the QBO query language, the value escaped), inactive items included:
   an inactive item of that name is an error, since a sales form cannot use it and QuickBooks
   gives its name to no new item;
3. only then (find_or_create) a create, with the step's idempotency key as ``requestid``.
   A Service or NonInventory item needs the income account its sales are booked to
   (``IncomeAccountRef``); without one the input is refused before anything is sent.

What is found or created is linked to the source id, so one source id never becomes two
items — even when two runs race: the loser's create is refused as a duplicate name (6240)
and it takes the winner's item instead.

QuickBooks cannot delete an item. The undo of a created item therefore makes it inactive
(a sparse update ``Active: false`` with its current SyncToken, retried once on a stale one,
see :mod:`.synctoken`); its name stays taken until someone renames or reactivates it.
``ledgerlink runs undo`` keeps linked items (they are shared by later runs); the undo is
for an integrator's own clean-up.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import (Action, ActionContext, Problems, Request,
                                 Response, linked_target, unreadable_write)
from ledgerlink.errors import VendorError

from . import fields, queries, synctoken
from .api import JSON_HEADERS, classify, entity_url, params, request_id
from .fields import LEDGER

TARGET_TYPE = "quickbooks.item"
FIND_ITEM_NAME = "quickbooks.find_item"
FIND_OR_CREATE_ITEM_NAME = "quickbooks.find_or_create_item"

#: the item types this action creates (both need an IncomeAccountRef); Inventory items need
#: stock accounts and quantities, and are left to QuickBooks itself
TYPES = ("Service", "NonInventory")
#: QBO keeps at most this many characters of an item's Name
MAX_NAME = 100
DUPLICATE_NAME = "6240"

_FIND_KEYS = ("source_id", "Name")
_CREATE_KEYS = _FIND_KEYS + ("Type", "IncomeAccountRef", "Description", "UnitPrice", "Taxable")

_REF = {
    "description": "A reference to a QuickBooks account: its Id as a string, or {\"value\": Id, "
                   "\"name\": display name}.",
    "anyOf": [
        {"type": "string", "minLength": 1, "description": "The account's QuickBooks Id, e.g. \"1\"."},
        {"type": "object", "description": "The QuickBooks reference shape.", "required": ["value"],
         "additionalProperties": False,
         "properties": {
             "value": {"type": "string", "minLength": 1, "description": "The account's QuickBooks Id."},
             "name": {"type": "string",
                      "description": "The account's name (informational; QuickBooks matches on value)."}}},
    ],
}

_PROPERTIES: dict[str, Any] = {
    "source_id": {"type": "string", "minLength": 1,
                  "description": "The product's id in the source system, e.g. Stripe's prod_… or "
                                 "price_…: looked up in the links table first, and linked to the "
                                 "item found or created, so it never becomes a second item. "
                                 "Optional: without it the item is found by Name only."},
    "Name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME,
             "description": "The item's name in QuickBooks (unique among items), e.g. the Stripe "
                            "product's name."},
    "Type": {"enum": list(TYPES), "default": "Service",
             "description": "The type of a new item: Service (the default) or NonInventory (goods "
                            "whose stock QuickBooks does not track)."},
    "IncomeAccountRef": {**_REF, "x-ledgerlink-ref": "Account",
                         "description": "The income account the new item's sales are booked to "
                                        "(e.g. \"Services\" or \"Sales of Product Income\"): its "
                                        "QuickBooks Id or {\"value\", \"name\"}. QuickBooks needs "
                                        "it for a Service or NonInventory item."},
    "Description": {"type": "string", "maxLength": fields.MAX_TEXT,
                    "description": "The new item's sales description, printed on sales forms."},
    "UnitPrice": {"description": "The new item's default sales price: a decimal string such as "
                                 "\"10.00\" or a number read as an exact Decimal (never a float).",
                  "anyOf": [
                      {"type": "number", "minimum": 0, "description": "A price of 0 or more."},
                      {"type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*$",
                       "description": "A price written as a decimal string, e.g. \"10.00\"."}]},
    "Taxable": {"type": "boolean",
                "description": "US companies: whether sales of the new item are taxable."},
}

FIND_INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "find a QuickBooks item",
    "type": "object",
    "required": ["Name"],
    "additionalProperties": False,
    "properties": {key: _PROPERTIES[key] for key in _FIND_KEYS},
}

CREATE_INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "find a QuickBooks item, and create it if it is not there",
    "type": "object",
    "required": ["Name", "IncomeAccountRef"],
    "additionalProperties": False,
    "properties": {key: _PROPERTIES[key] for key in _CREATE_KEYS},
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name", "found_by"],
    "properties": {
        "id": {"type": ["string", "null"], "description": "The QuickBooks item Id (null: not found)."},
        "name": {"type": "string", "description": "The item's Name."},
        "type": {"type": "string",
                 "description": "The item's Type (Service, NonInventory, Inventory …), when it was "
                                "read or created now (not when found through the links table)."},
        "active": {"type": "boolean",
                   "description": "Whether the item is active (always true: an inactive one is an "
                                  "error), when it was read or created now."},
        "found_by": {"enum": ["link", "name", "created", "none"],
                     "description": "How the item was found: the links table, its name, created "
                                    "now, or not at all (find_item only)."},
        "link": {"type": "object",
                 "description": "What ledgerlink links: the source id ↔ this item (only when the "
                                "input names a source_id and an item was found or created).",
                 "properties": {
                     "source_id": {"type": "string", "description": "The source system's id."},
                     "target_type": {"const": TARGET_TYPE,
                                     "description": "The kind of entity linked: a QuickBooks item."}}},
    },
}

FIND_SAMPLE = {"source_id": "prod_PkR8iRBVJz9Yzr", "Name": "Bird food subscription"}
CREATE_SAMPLE = {"source_id": "prod_PkR8iRBVJz9Yzr", "Name": "Bird food subscription",
                 "Type": "Service", "IncomeAccountRef": "1",
                 "Description": "Monthly bird food delivery", "UnitPrice": "10.00"}


# --- the input -----------------------------------------------------------------------------------

def _read(input: Any, action: str, create: bool) -> tuple[str, str | None, dict[str, Any] | None]:
    """(Name, source_id, the create body or None); every problem at once as an InputError."""
    problems = Problems(action, "a QuickBooks item")
    if not isinstance(input, Mapping):
        problems.add("/", f"the input must be an object, got {contract.show(input)}")
        problems.raise_if_any()
    contract.unknown_keys(input, _CREATE_KEYS if create else _FIND_KEYS, "", "input key", problems)
    name = None
    if "Name" not in input:
        problems.add("/Name", "missing; give the item's name in QuickBooks, e.g. the product name")
    else:
        name = fields.text(input["Name"], "/Name", "Name", MAX_NAME, problems)
        if name is not None and not name.strip():
            problems.add("/Name", "Name is empty; give the item's name in QuickBooks")
    source_id = input.get("source_id")
    if "source_id" in input and (not isinstance(source_id, str) or not source_id):
        problems.add("/source_id", f"must be the source system's id as a non-empty string, got "
                                   f"{contract.show(source_id)}")
    body: dict[str, Any] | None = None
    if create:
        body = {}
        item_type = input.get("Type", "Service")
        if item_type not in TYPES:
            problems.add("/Type", f"must be one of {', '.join(TYPES)}, got {contract.show(item_type)}")
        if "IncomeAccountRef" not in input:
            problems.add("/IncomeAccountRef",
                         f"missing; QuickBooks needs the income account a {item_type} item's sales "
                         f"are booked to before it creates the item: give its Id (e.g. \"1\", the "
                         f"\"Services\" account) or {{\"value\", \"name\"}}, e.g. from a lookup table")
        else:
            income = fields.ref(input["IncomeAccountRef"], "/IncomeAccountRef", "IncomeAccountRef",
                                problems)
            if income is not None:
                body["IncomeAccountRef"] = income
        if "Description" in input:
            description = fields.text(input["Description"], "/Description", "Description",
                                      fields.MAX_TEXT, problems)
            if description:
                body["Description"] = description
        if "UnitPrice" in input:
            price = contract.amount(input["UnitPrice"], "/UnitPrice", "UnitPrice", problems,
                                 sign="nonnegative")
            if price is not None:
                body["UnitPrice"] = contract.plain(price)
        if "Taxable" in input:
            if not isinstance(input["Taxable"], bool):
                problems.add("/Taxable", f"must be true or false, got {contract.show(input['Taxable'])}")
            else:
                body["Taxable"] = input["Taxable"]
        body = {"Name": name, "Type": item_type, **body}
    problems.raise_if_any()
    return str(name), source_id, body


# --- finding ---------------------------------------------------------------------------------------

def _output(item: Mapping[str, Any], how: str, source_id: str | None, action: str) -> dict[str, Any]:
    """The step output for an item QuickBooks answered with; an inactive one is an error."""
    if item.get("Active") is False:
        raise VendorError(f"{action}: the QuickBooks item {item.get('Name')!r} (Id {item.get('Id')}) "
                          f"is inactive: a sales form cannot use it, and QuickBooks gives its name to "
                          f"no new item; make it active again in QuickBooks (Sales > Products and "
                          f"services, filter Inactive, Make active) or map another Name",
                          kind="permanent")
    out: dict[str, Any] = {"id": str(item["Id"]), "name": str(item.get("Name", "")),
                           "type": str(item.get("Type", "Service")), "active": True, "found_by": how}
    if source_id:
        out["link"] = {"source_id": source_id, "target_type": TARGET_TYPE}
    return out


def _by_name(ctx: ActionContext, name: str) -> Generator[Any, Response, dict[str, Any] | None]:
    """The item named ``name`` (an active one first), inactive ones included, or None.

    ``Active IN (true, false)``: QBO answers a query of a list entity that names no Active
    with the active ones only, and an inactive item still holds its name.
    """
    rows = yield from queries.query(ctx, "Item", [f"Name = {queries.quote(name)}", "Active IN (true, false)"])
    rows = [row for row in rows if row.get("Id")]
    rows.sort(key=lambda row: row.get("Active") is False)
    return dict(rows[0]) if rows else None


def _find(input_name: str, source_id: str | None, ctx: ActionContext,
          action: str) -> Generator[Any, Response, dict[str, Any] | None]:
    if source_id:
        target = yield from linked_target(source_id, TARGET_TYPE)
        if target:
            return {"id": str(target), "name": input_name, "found_by": "link",
                    "link": {"source_id": source_id, "target_type": TARGET_TYPE}}
    item = yield from _by_name(ctx, input_name)
    if item is not None:
        return _output(item, "name", source_id, action)
    return None


def find_item(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """The item linked to ``source_id``, else the one named ``Name``; id null if none."""
    name, source_id, _ = _read(input, FIND_ITEM_NAME, create=False)
    found = yield from _find(name, source_id, ctx, FIND_ITEM_NAME)
    return found or {"id": None, "name": name, "found_by": "none"}


_EXISTING_ID = re.compile(r"\bId=([A-Za-z0-9-]+)")


def _winner(ctx: ActionContext, name: str, error: VendorError) -> Generator[Any, Response, dict[str, Any] | None]:
    """The item that holds ``name`` after a duplicate-name refusal: by name again, else by the
    Id QuickBooks names in the fault (``… already exists. : Id=58``; names compare without case)."""
    item = yield from _by_name(ctx, name)
    if item is not None:
        return item
    match = _EXISTING_ID.search(error.message)
    if match is None:
        return None
    try:
        return (yield from synctoken.read(ctx, "Item", "item", match.group(1)))
    except VendorError:
        return None


def find_or_create_item(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """As find_item, then create the item when none is found (requestid = the step's key)."""
    action = FIND_OR_CREATE_ITEM_NAME
    name, source_id, body = _read(input, action, create=True)
    key = request_id(ctx.idempotency_key, action)
    found = yield from _find(name, source_id, ctx, action)
    if found:
        return found
    response = yield Request(method="POST", url=entity_url(ctx.connection.settings, "item"),
                             params=params(key), headers=dict(JSON_HEADERS), json=body)
    error = classify(response)
    if error is not None:
        if error.vendor_code == DUPLICATE_NAME or f"code {DUPLICATE_NAME}:" in error.message:
            # another run created it meanwhile (or the name differs only in case): take that one
            winner = yield from _winner(ctx, name, error)
            if winner is not None:
                return _output(winner, "name", source_id, action)
        raise error
    item = response.json.get("Item") if isinstance(response.json, Mapping) else None
    if not isinstance(item, Mapping) or not item.get("Id"):
        raise unreadable_write(response, LEDGER, "Item")  # created, perhaps: the next attempt finds it first
    return _output(item, "created", source_id, action)


def undo_item(target_id: str, ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Make a created item inactive — QuickBooks cannot delete items: a sparse update
    ``Active: false`` with its SyncToken (read first, retried once when stale). An item
    inactive already, or gone, counts as undone."""
    target = synctoken.entity_id(target_id, f"{FIND_OR_CREATE_ITEM_NAME} undo", "the item id")
    try:
        done = yield from synctoken.sparse_update(ctx, FIND_OR_CREATE_ITEM_NAME, "Item", "item",
                                                  target, {"Active": False})
    except VendorError as exc:
        if synctoken.is_not_found(exc):
            return {"id": target, "status": "already gone"}
        raise
    return {"id": target, "status": "made inactive" if done.written else "already inactive",
            "sync_token": str(done.entity.get("SyncToken", "0"))}


# --- dry-run answers -------------------------------------------------------------------------------

_TIME = "2024-03-15T10:00:00.000-07:00"
_SAMPLE_ITEM = {"Id": "19", "SyncToken": "0", "Name": "Bird food subscription",
                "FullyQualifiedName": "Bird food subscription", "Active": True, "Type": "Service",
                "Description": "Monthly bird food delivery", "UnitPrice": Decimal("10.00"),
                "IncomeAccountRef": {"value": "1", "name": "Services"}, "Taxable": False,
                "TrackQtyOnHand": False}


def _sample_response(request: Request) -> Response:
    if (request.params or {}).get("query") or request.url.endswith("/query"):
        return Response(status=200, json={"QueryResponse": {}, "time": _TIME})
    item = dict(_SAMPLE_ITEM)
    if isinstance(request.json, Mapping):
        item.update({k: v for k, v in request.json.items() if k not in ("sparse", "Id", "SyncToken")})
    return Response(status=200, json={"Item": item, "time": _TIME})


FIND_ITEM = Action(
    name=FIND_ITEM_NAME,
    summary="Find the QuickBooks item (product or service) of a source product: linked before, or "
            "by name.",
    input_schema=FIND_INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=FIND_SAMPLE,
    perform=find_item, sample_response=_sample_response, idempotency="none")

FIND_OR_CREATE_ITEM = Action(
    name=FIND_OR_CREATE_ITEM_NAME,
    summary="Find the QuickBooks item of a source product, or create it (Service or NonInventory, "
            "with its income account); never twice for one source id. Undo makes a created item "
            "inactive: QuickBooks cannot delete items.",
    input_schema=CREATE_INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=CREATE_SAMPLE,
    perform=find_or_create_item, sample_response=_sample_response, idempotency="lookup",
    undo=undo_item)

ACTIONS = (FIND_ITEM, FIND_OR_CREATE_ITEM)

__all__ = ["ACTIONS", "FIND_ITEM", "FIND_OR_CREATE_ITEM", "TARGET_TYPE", "TYPES", "find_item",
           "find_or_create_item", "undo_item"]
