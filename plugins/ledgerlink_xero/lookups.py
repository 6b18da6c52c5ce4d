"""``xero.find_account``, ``xero.find_item`` and ``xero.find_tax_rate``: read-only lookups by
the code a recipe names them with.

``GET /Accounts?where=Code=="200"``, ``GET /Items?where=Code=="PRO"`` and ``GET
/TaxRates?where=TaxType=="OUTPUT"`` (https://developer.xero.com/documentation/api/accounting/
accounts, /items, /taxrates), the code quoted as :func:`.api.quoted` allows. Each answers the
entity's id and what a later step checks (an account's type and currency, an item's sales
account, a tax rate's effective rate), or ``id: null`` when Xero has none; an archived or
deleted one is reported as such, so a recipe never books to it unawares.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response, answer_decimal
from ledgerlink.contract.problems import begin

from . import api
from .fields import code, string


@dataclass(frozen=True)
class Lookup:
    name: str
    collection: str
    key: str
    id_field: str
    what: str
    #: (output name, Xero field, description) of what the output reports beside the id
    reported: tuple[tuple[str, str, str], ...]
    sample: str
    sample_found: Mapping[str, Any]


def _schemas(kind: Lookup) -> tuple[dict[str, Any], dict[str, Any]]:
    input_schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": f"find a Xero {kind.what}",
                    "type": "object", "required": [kind.key], "additionalProperties": False,
                    "properties": {kind.key: string(f"The {kind.what}'s {kind.key} in Xero.", minLength=1)}}
    output_schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["id"],
                     "properties": {"id": {"type": ["string", "null"],
                                           "description": f"The Xero {kind.id_field} (null: no such {kind.what})."},
                                    "status": string(f"The {kind.what}'s Status in Xero (ACTIVE, ARCHIVED …)."),
                                    **{out: {"type": ["string", "null"], "description": words}
                                       for out, _, words in kind.reported}}}
    return input_schema, output_schema


def lookup_action(kind: Lookup) -> Action:
    """The read-only find action of ``kind``."""
    input_schema, output_schema = _schemas(kind)

    def perform(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
        problems = begin(kind.name, f"a Xero {kind.what} lookup", data, input_schema["properties"])
        value = code(data.get(kind.key), f"/{kind.key}", kind.key, problems)
        problems.raise_if_any()
        request = api.read(ctx, kind.collection, where=api.where_all([(kind.key, value)]))
        found = api.elements((yield request), kind.collection, kind.what)
        if not found:
            return {"id": None, "status": "none"}
        entity = found[0]
        out: dict[str, Any] = {"id": str(entity.get(kind.id_field)), "status": str(entity.get("Status") or "ACTIVE")}
        for name, field, _ in kind.reported:
            value = entity
            for part in field.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            number = answer_decimal(value) if not isinstance(value, str) else None
            out[name] = str(number) if number is not None else (str(value) if value is not None else None)
        return out

    perform.__name__ = f"perform_{kind.name.split('.', 1)[1]}"
    return Action(name=kind.name, summary=f"Find a Xero {kind.what} by its {kind.key} (read-only).",
                  input_schema=input_schema, output_schema=output_schema, sample={kind.key: kind.sample},
                  perform=perform, sample_response={kind.collection: [kind.sample_found]}, idempotency="none")


FIND_ACCOUNT = lookup_action(Lookup(
    "xero.find_account", "Accounts", "Code", "AccountID", "account",
    (("type", "Type", "The account's Type (BANK, REVENUE, EXPENSE …)."),
     ("currency", "CurrencyCode", "A bank account's currency.")),
    "200", {"AccountID": "5040915e-8ce7-4177-8d08-fde416232f18", "Code": "200", "Type": "REVENUE",
            "Status": "ACTIVE"}))
FIND_ITEM = lookup_action(Lookup(
    "xero.find_item", "Items", "Code", "ItemID", "item",
    (("sales_account", "SalesDetails.AccountCode", "The account code the item sells to."),
     ("unit_price", "SalesDetails.UnitPrice", "The item's sales unit price.")),
    "PRO", {"ItemID": "9f1b5e7a-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "Code": "PRO",
            "SalesDetails": {"UnitPrice": "49.00", "AccountCode": "200"}}))
FIND_TAX_RATE = lookup_action(Lookup(
    "xero.find_tax_rate", "TaxRates", "TaxType", "TaxType", "tax rate",
    (("rate", "EffectiveRate", "The effective rate, a percentage."),),
    "OUTPUT", {"TaxType": "OUTPUT", "Name": "Sales Tax", "EffectiveRate": "8.5000", "Status": "ACTIVE"}))

LOOKUPS = (FIND_ACCOUNT, FIND_ITEM, FIND_TAX_RATE)
