"""FreshBooks' request schemas, made strict: the check every request body the sandbox reads passes.

FreshBooks publishes no OpenAPI. ``spec/freshbooks.openapi.yaml`` is the community description
(ballerina-platform/openapi-connectors, Apache-2.0, licence beside it; see
tests/vendor/SOURCES.md), shipped unchanged. :func:`load` reads its ``components/schemas`` once
and rewrites them as JSON Schema:

- **Strict objects.** Every object schema with ``properties`` gets ``additionalProperties: false``,
  so a misspelt field (``{"invoice": {"customerId": 1}}``) is refused, naming it.
- **Where FreshBooks differs** from the description, :data:`DEVIATIONS` changes the schema, each
  entry with the FreshBooks answer or page that proves it (the SDKs' recorded answers, copied
  in tests/vendor/freshbooks/). Nothing else is changed.
- **Resources it does not describe** (credit notes, other incomes, items, callbacks) get the
  sandbox's own schemas, :data:`OWN`, written from FreshBooks' pages and the recorded answers
  named beside each.

An update (PUT) sends only what changes: :func:`problems` with ``update=True`` drops the
``required`` lists.
"""

from __future__ import annotations

import copy
import threading
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator

SPEC = Path(__file__).resolve().parent / "spec" / "freshbooks.openapi.yaml"
_lock = threading.Lock()

_STRING_OR_NUMBER = {"type": ["string", "number"]}
_MONEY = {"type": "object", "properties": {"amount": {"type": "string"}, "code": {"type": "string"}},
          "required": ["amount"]}

#: (schema, property or None for the schema itself, the change, why: the proof)
DEVIATIONS: list[tuple[str, str | None, dict[str, Any], str]] = [
    ("InvoiceLinesWritable", "qty", _STRING_OR_NUMBER,
     "the spec says integer; FreshBooks answers a decimal string (\"qty\": \"4\", get_invoice_response.json) "
     "and takes fractional quantities (https://www.freshbooks.com/api/invoices)"),
    ("InvoiceLinesWritable", "unit_cost", _MONEY,
     "unit_cost.code may be left out: the invoice's currency is used (https://www.freshbooks.com/api/invoices)"),
    ("InvoiceLinesWritable", "description", {"type": "string"},
     "not in the spec's writable line; FreshBooks answers each line's description (\"description\": \"Melmac "
     "melamine resin molded dinnerware\", get_invoice_response.json) and takes it on a create "
     "(https://www.freshbooks.com/api/invoices)"),
    ("InvoiceCreate", "status", {"type": ["integer", "string"]},
     "the spec says string; FreshBooks answers the status as a number (\"status\": 2, get_invoice_response.json)"),
    ("InvoiceUpdate", "status", {"type": ["integer", "string"]}, "as InvoiceCreate.status"),
    ("InvoiceUpdate", "action_mark_as_sent", {"type": "boolean"},
     "not in the spec; FreshBooks marks an invoice sent without e-mailing it by PUT "
     "{\"invoice\": {\"action_mark_as_sent\": true}} (https://www.freshbooks.com/api/invoices)"),
    ("InvoiceUpdate", "lines", {"type": "array", "items": {"$ref": "#/components/schemas/InvoiceLinesWritable"}},
     "an update may replace the lines, as a create sends them"),
    ("TaxCreate", "amount", _STRING_OR_NUMBER,
     "the spec says number; FreshBooks answers the percentage as a string (\"amount\": \"13\", get_tax_response.json)"),
    ("TaxUpdate", "amount", _STRING_OR_NUMBER, "as TaxCreate.amount"),
    ("Payment", "accounting_systemid", {"type": "string"},
     "the spec spells it \"accounting _systemid\" (a space); FreshBooks' field is accounting_systemid "
     "(get_payment_response.json)"),
    ("Payment", "amount", _MONEY,
     "amount.code may be left out: a payment takes its invoice's currency "
     "({\"amount\": {\"amount\": \"10.00\"}}, https://www.freshbooks.com/api/payments)"),
    ("ExpenseCreate", "amount", _MONEY, "amount.code may be left out: the business's currency is used"),
    ("ExpenseUpdate", "amount", _MONEY, "as ExpenseCreate.amount"),
    ("ClientCreate", None, {"properties": {name: {"type": "string"} for name in (
        "bus_phone", "mob_phone", "fax", "s_street", "s_street2", "s_city", "s_province", "s_code", "s_country",
        "company_industry", "company_size")}},
     "client fields FreshBooks answers and takes (create_client_response.json) that the spec leaves out"),
    ("ClientCreate", "vis_state", {"type": "integer"},
     "not in the spec; a client is deleted and undeleted by PUT {\"client\": {\"vis_state\": 1}} "
     "(https://www.freshbooks.com/api/active_deleted), as FreshBooks' SDKs delete one"),
    ("ClientCreate", "status", {"type": ["boolean", "integer"]},
     "kept as the spec has it, and the number FreshBooks' answers use"),
]

_LINE = {"type": "object", "additionalProperties": False, "properties": {
    "type": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "qty": _STRING_OR_NUMBER, "unit_cost": _MONEY, "taxName1": {"type": "string"},
    "taxAmount1": _STRING_OR_NUMBER, "taxName2": {"type": "string"}, "taxAmount2": _STRING_OR_NUMBER}}
_TAXES = {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                     "properties": {"name": {"type": "string"}, "amount": _STRING_OR_NUMBER}}}

#: the sandbox's own request schemas, for what the spec does not describe
OWN: dict[str, Any] = {
    # https://www.freshbooks.com/api/credit_notes: clientid, create_date, currency_code, lines
    "CreditNoteCreate": {"type": "object", "required": ["clientid", "create_date"], "properties": {
        "clientid": {"type": "integer"}, "create_date": {"type": "string"}, "currency_code": {"type": "string"},
        "credit_number": {"type": "string"}, "notes": {"type": "string"}, "terms": {"type": "string"},
        "language": {"type": "string"}, "credit_type": {"type": "string"}, "lines": {"type": "array", "items": _LINE},
        "vis_state": {"type": "integer"}}},
    # https://www.freshbooks.com/api/other-income; get_other_income_response.json
    "OtherIncomeCreate": {"type": "object", "required": ["amount", "category_name", "date"], "properties": {
        "amount": _MONEY, "category_name": {"type": "string"}, "date": {"type": "string"},
        "note": {"type": "string"}, "payment_type": {"type": "string"}, "source": {"type": "string"},
        "taxes": _TAXES, "vis_state": {"type": "integer"}}},
    # https://www.freshbooks.com/api/items; get_item_response.json
    "ItemCreate": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "qty": _STRING_OR_NUMBER,
        "sku": {"type": "string"}, "inventory": {"type": ["string", "null"]}, "tax1": {"type": "integer"},
        "tax2": {"type": "integer"}, "unit_cost": _MONEY, "vis_state": {"type": "integer"}}},
    # https://www.freshbooks.com/api/webhooks; list_callbacks_response.json
    "CallbackCreate": {"type": "object", "required": ["event", "uri"], "properties": {
        "event": {"type": "string"}, "uri": {"type": "string"}}},
    "CallbackUpdate": {"type": "object", "properties": {
        "verifier": {"type": "string"}, "resend": {"type": "boolean"}}},
}
#: envelope name → (the key, the schema of its object)
ENVELOPES = {"CreditNoteCreateObject": ("credit_note", "CreditNoteCreate"),
             "OtherIncomeCreateObject": ("other_income", "OtherIncomeCreate"),
             "ItemCreateObject": ("item", "ItemCreate"),
             "CallbackCreateObject": ("callback", "CallbackCreate"),
             "CallbackUpdateObject": ("callback", "CallbackUpdate")}


def strict(schema: Any) -> Any:
    """``schema`` with every object that lists ``properties`` closed (``additionalProperties:
    false``) and OpenAPI-only keys dropped; the input is not changed."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()
           if key not in ("example", "default", "externalDocs", "nullable", "description", "properties")}
    if isinstance(schema.get("properties"), dict):  # property names are fields, never keywords to drop
        out["properties"] = {name: strict(value) for name, value in schema["properties"].items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if schema.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def load() -> dict[str, Any]:
    """Every schema, strict, with :data:`DEVIATIONS` applied and :data:`OWN` added (read once)."""
    with _lock:
        with SPEC.open("rb") as stream:
            document = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    schemas = copy.deepcopy(document["components"]["schemas"])
    for name, prop, change, _why in DEVIATIONS:
        target = schemas[name]
        if prop is None:
            target.setdefault("properties", {}).update(change["properties"])
        else:
            target.setdefault("properties", {})[prop] = change
    schemas.update(copy.deepcopy(OWN))
    for name, (key, inner) in ENVELOPES.items():
        schemas[name] = {"type": "object", "properties": {key: {"$ref": f"#/components/schemas/{inner}"}}}
    return strict(schemas)


def _relaxed(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_relaxed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {key: _relaxed(value) for key, value in schema.items() if key != "required"}


@cache
def _validator(name: str, update: bool) -> Draft4Validator:
    schemas = load()
    if name not in schemas:
        raise KeyError(f"no FreshBooks request schema {name!r}")
    if update:
        schemas = _relaxed(schemas)
    return Draft4Validator({"allOf": [{"$ref": f"#/components/schemas/{name}"}], "components": {"schemas": schemas}})


def problems(name: str, instance: Any, *, update: bool = False) -> list[tuple[str, str]]:
    """Why ``instance`` is not a valid ``name``: (the field's path, dotted; the message), sorted;
    ``[]`` when it is valid."""
    found = []
    for error in _validator(name, update).iter_errors(instance):
        path = ".".join(str(part) for part in error.absolute_path) or "(body)"
        found.append((path, error.message))
    return sorted(found)


__all__ = ["DEVIATIONS", "ENVELOPES", "OWN", "SPEC", "load", "problems", "strict"]
