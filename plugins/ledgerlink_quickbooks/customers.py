"""``quickbooks.find_customer`` and ``quickbooks.find_or_create_customer``.

The customer a source system (Stripe) knows by its own id is found, in this order:
1. the links table (``LinkQuery``): the QuickBooks customer ledgerlink already created or
   found for that source id — no request at all;
2. a query by ``DisplayName`` (the QBO query language, the value escaped);
3. only then (find_or_create) a create, with the step's idempotency key as ``requestid``.
Whatever is found or created is linked to the source id, so the same Stripe customer never
becomes a second QuickBooks customer — even when two events race: the loser's create is
refused as a duplicate name (6240) and it takes the winner's customer instead.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import (Action, ActionContext, Request, Response,
                                 linked_target, unreadable_write)
from ledgerlink.errors import InputError

from .fields import LEDGER
from .queries import query, quote
from .api import classify, entity_url, params

TARGET_TYPE = "quickbooks.customer"

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "find a QuickBooks customer (and create it if it is not there)",
    "type": "object",
    "required": ["source_id", "DisplayName"],
    "additionalProperties": False,
    "properties": {
        "source_id": {"type": "string", "minLength": 1,
                      "description": "The customer's id in the source system, e.g. Stripe's cus_…; the link "
                                     "ledgerlink keeps between it and the QuickBooks customer."},
        "DisplayName": {"type": "string", "minLength": 1, "maxLength": 500,
                        "description": "The QuickBooks display name (unique among customers, vendors and "
                                       "employees), e.g. the Stripe customer's name or email."},
        "PrimaryEmailAddr": {"type": "string", "maxLength": 100,
                             "description": "The customer's email address (set on a new customer)."},
        "CompanyName": {"type": "string", "maxLength": 100, "description": "Company name (new customer)."},
        "CurrencyRef": {"type": "string", "pattern": "^[A-Za-z]{3}$",
                        "description": "The customer's currency, for multicurrency companies (new customer)."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "found_by"],
    "properties": {
        "id": {"type": ["string", "null"], "description": "The QuickBooks customer Id (null: not found)."},
        "display_name": {"type": "string", "description": "The customer's DisplayName."},
        "found_by": {"enum": ["link", "name", "created", "none"],
                     "description": "How the customer was found: the links table, the name, or created now."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this customer."},
    },
}

SAMPLE = {"source_id": "cus_Oaxlz8kB0PJWGa", "DisplayName": "Amy's Bird Sanctuary",
          "PrimaryEmailAddr": "birds@intuit.com"}


def _found(customer_id: str, name: str, how: str, source_id: str) -> dict[str, Any]:
    return {"id": customer_id, "display_name": name, "found_by": how,
            "link": {"source_id": source_id, "target_type": TARGET_TYPE}}


def _by_name(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, str | None]:
    # inactive customers too: QuickBooks lists active ones only unless the query names Active,
    # yet an inactive customer still holds its name (a create would be refused as a duplicate)
    rows = yield from query(ctx, "Customer", [f"DisplayName = {quote(input['DisplayName'])}",
                                              "Active IN (true, false)"])
    if not rows:
        return None
    if rows[0].get("Active") is False:
        raise InputError(f"the QuickBooks customer {input['DisplayName']!r} (Id {rows[0].get('Id')}) is "
                         f"inactive; make it active in QuickBooks (Sales > Customers > Include inactive) "
                         f"or map another DisplayName")
    return str(rows[0]["Id"])


def _find(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any] | None]:
    target = yield from linked_target(input["source_id"], TARGET_TYPE)
    if target:
        return _found(str(target), input["DisplayName"], "link", input["source_id"])
    by_name = yield from _by_name(input, ctx)
    if by_name:
        return _found(by_name, input["DisplayName"], "name", input["source_id"])
    return None


def find_customer(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """The customer linked to ``source_id``, else the one named ``DisplayName``; id null if none."""
    found = yield from _find(input, ctx)
    return found or {"id": None, "display_name": input["DisplayName"], "found_by": "none"}


def find_or_create_customer(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """As find_customer, then create the customer when none is found."""
    found = yield from _find(input, ctx)
    if found:
        return found
    if len(ctx.idempotency_key) > 50:
        raise InputError("the idempotency key is longer than QuickBooks' 50-character requestid")
    body: dict[str, Any] = {"DisplayName": input["DisplayName"]}
    if input.get("PrimaryEmailAddr"):
        body["PrimaryEmailAddr"] = {"Address": input["PrimaryEmailAddr"]}
    if input.get("CompanyName"):
        body["CompanyName"] = input["CompanyName"]
    if input.get("CurrencyRef"):
        body["CurrencyRef"] = {"value": input["CurrencyRef"].upper()}
    response = yield Request(method="POST", url=entity_url(ctx.connection.settings, "customer"),
                             params=params(ctx.idempotency_key),
                             headers={"Accept": "application/json", "Content-Type": "application/json"}, json=body)
    error = classify(response)
    if error is not None:
        if error.vendor_code == "6240" or "6240" in error.message:  # another run created it meanwhile
            by_name = yield from _by_name(input, ctx)
            if by_name:
                return _found(by_name, input["DisplayName"], "name", input["source_id"])
        raise error
    customer = (response.json or {}).get("Customer") if isinstance(response.json, Mapping) else None
    if not isinstance(customer, Mapping) or not customer.get("Id"):
        raise unreadable_write(response, LEDGER, "Customer")  # created, perhaps: the next attempt finds it first
    return _found(str(customer["Id"]), str(customer.get("DisplayName", input["DisplayName"])), "created",
                  input["source_id"])


def _sample_response(request: Request) -> Response:
    if "query" in request.url or (request.params or {}).get("query"):
        return Response(status=200, json={"QueryResponse": {}, "time": "2024-03-15T10:00:00.000-07:00"})
    return Response(status=200, json={"Customer": {"Id": "58", "SyncToken": "0",
                                                   "DisplayName": "Amy's Bird Sanctuary"},
                                      "time": "2024-03-15T10:00:00.000-07:00"})


FIND_CUSTOMER = Action(
    name="quickbooks.find_customer",
    summary="Find the QuickBooks customer of a source customer: linked before, or by display name.",
    input_schema={**INPUT_SCHEMA, "title": "find a QuickBooks customer"}, output_schema=OUTPUT_SCHEMA,
    sample=SAMPLE, perform=find_customer, sample_response=_sample_response, idempotency="none")

FIND_OR_CREATE_CUSTOMER = Action(
    name="quickbooks.find_or_create_customer",
    summary="Find the QuickBooks customer of a source customer, or create it; never twice for one source id.",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE,
    perform=find_or_create_customer, sample_response=_sample_response, idempotency="lookup")
