"""``freshbooks.create_other_income``: money received outside an invoice.

FreshBooks keeps money that no invoice asked for as *other income*
(https://www.freshbooks.com/api/other-income): ``POST …/other_incomes/other_incomes`` with
``{"other_income": {"amount": {"amount", "code"}, "category_name", "date", "payment_type",
"source", "note", "taxes": [{"name", "amount"}]}}``, ``category_name`` one of FreshBooks'
(``advertising``, ``in_person_sales``, ``online_sales``, ``rentals``, ``other``), the taxes the
amounts included in it. FreshBooks has no journal entries an integration can post, so this is
what books, in a per-payout booking, a Stripe charge without an invoice (``online_sales``) or
money Stripe gave back (a dispute won, a fee returned: ``other``). Its id is ``incomeid``.

The source's id (Stripe's ``ch_…``, ``txn_…``) is kept in its ``note`` (a line ``ledgerlink
source <id>``): a lost answer is found among the other income of that date
(``search[date_min]`` / ``search[date_max]``). Undo is FreshBooks' ``DELETE``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, CreateSteps, Request, Response, Schemas, create_action
from ledgerlink.contract.problems import begin, date, text

from . import api, records
from .errors import classify
from .fields import currency, money_in

ACTION_NAME = "freshbooks.create_other_income"
#: the link a run keeps: the action's own name, so `ledgerlink runs undo` deletes what it made
TARGET_TYPE = ACTION_NAME
PATH = "other_incomes/other_incomes"
KIND = "other_income"
#: FreshBooks' other-income categories and payment types (https://www.freshbooks.com/api/other-income)
CATEGORIES = ("advertising", "in_person_sales", "online_sales", "rentals", "other")
PAYMENT_TYPES = ("Cash", "Check", "Credit", "Credit Card", "Bank Transfer", "Debit", "PayPal", "Other")
MAX_TAXES = 2

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "FreshBooks other income",
    "type": "object",
    "required": ["source_id", "amount", "currency_code", "date"],
    "additionalProperties": False,
    "properties": {
        "source_id": records.SOURCE_ID,
        "amount": {"type": ["string", "number"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                   "description": "The amount received, taxes included, a positive decimal string with at most "
                                  "the currency's decimals."},
        "currency_code": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "Its currency, ISO 4217."},
        "date": {"type": "string", "format": "date", "description": "When it was received, YYYY-MM-DD."},
        "category_name": {"enum": list(CATEGORIES), "default": "online_sales",
                          "description": "FreshBooks' category for it (default online_sales)."},
        "payment_type": {"enum": list(PAYMENT_TYPES), "default": "Credit Card",
                         "description": "How it was paid (default Credit Card)."},
        "source": {"type": "string", "maxLength": 255, "default": "Stripe",
                   "description": "Where it came from (default Stripe)."},
        "note": {"type": "string", "maxLength": 4000,
                 "description": "A note for the business; the source id's line is added."},
        "taxes": {"type": "array", "maxItems": MAX_TAXES,
                  "description": "The taxes included in the amount, by name and amount.",
                  "items": {"type": "object", "required": ["name", "amount"], "additionalProperties": False,
                            "properties": {"name": {"type": "string", "minLength": 1, "description": "The tax's name."},
                                           "amount": {"type": ["string", "number"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                                                      "description": "The tax included, a decimal string."}}}},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id", "link"],
    "properties": {
        "id": {"type": "string", "description": "The FreshBooks other income's id (its incomeid)."},
        "amount": {"type": "string", "description": "The amount FreshBooks recorded."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this income."},
    },
}

SAMPLE = {"source_id": "ch_3NmS1f2eZvKYlo2C1aB2cD3e", "amount": "25.00", "currency_code": "USD",
          "date": "2026-11-30", "category_name": "online_sales", "taxes": [{"name": "Sales tax", "amount": "2.04"}]}


def build(data: Mapping[str, Any], ctx: ActionContext) -> records.Sourced:
    """The other income's body; every input problem raises before a request."""
    problems = begin(ACTION_NAME, "FreshBooks other income", data, INPUT_SCHEMA["properties"])
    source = text(data.get("source_id"), "/source_id", "source_id", records.MAX_SOURCE_ID, problems,
                  keeper="ledgerlink")
    code = currency(data.get("currency_code"), problems)
    received = money_in(data.get("amount"), code, "/amount", "amount", problems)
    day = date(data.get("date"), "/date", problems)
    category = data.get("category_name", "online_sales")
    if category not in CATEGORIES:
        problems.add("/category_name", f"must be one of FreshBooks' categories ({', '.join(CATEGORIES)}), "
                                       f"got {category!r}")
    kind = data.get("payment_type", "Credit Card")
    if kind not in PAYMENT_TYPES:
        problems.add("/payment_type", f"must be one of {', '.join(PAYMENT_TYPES)}, got {kind!r}")
    origin = text(data.get("source", "Stripe"), "/source", "source", 255, problems, keeper="FreshBooks")
    note = text(data.get("note", ""), "/note", "note", 4000, problems, keeper="FreshBooks")
    taxes = []
    raw_taxes = data.get("taxes") or []
    if not isinstance(raw_taxes, list) or len(raw_taxes) > MAX_TAXES:
        problems.add("/taxes", f"at most {MAX_TAXES} taxes, as a list")
        raw_taxes = []
    for index, tax in enumerate(raw_taxes):
        where = f"/taxes/{index}"
        if not isinstance(tax, Mapping) or not tax.get("name"):
            problems.add(where, "a tax is {\"name\", \"amount\"}")
            continue
        included = money_in(tax.get("amount"), code, f"{where}/amount", "amount", problems, sign="nonnegative")
        if included is not None:
            taxes.append({"name": str(tax["name"]), "amount": f"{included:f}"})
    problems.raise_if_any()
    mark = api.mark(str(source))
    body: dict[str, Any] = {"amount": api.money(received, code), "category_name": category, "date": day,
                            "payment_type": kind, "source": origin, "note": f"{note}\n{mark}" if note else mark}
    if taxes:
        body["taxes"] = taxes
    return records.Sourced(body=body, total=received, source=str(source))


def _output(entity: Mapping[str, Any], built: records.Sourced) -> dict[str, Any]:
    money = api.read_money(entity.get("amount"))
    return records.output(entity, built.source, TARGET_TYPE, amount=f"{money[0]:f}" if money else f"{built.total:f}")


def _lookup(built: records.Sourced, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    day = built.body["date"]
    return (yield from records.listed(ctx, PATH, "other_income", {"date_min": day, "date_max": day}))


CREATE_OTHER_INCOME = create_action(
    name=ACTION_NAME,
    summary="Books money received outside an invoice as FreshBooks other income, once per source id.",
    what="FreshBooks other income",
    lookup_keys="date, found by the source id in its note",
    schemas=Schemas(input=INPUT_SCHEMA, output=OUTPUT_SCHEMA, sample=SAMPLE,
                    sample_response={"response": {"result": {"other_income": {
                        "incomeid": 1234, "amount": {"amount": "25.00", "code": "USD"}, "category_name": "online_sales",
                        "date": "2026-11-30", "note": api.mark(SAMPLE["source_id"]), "payment_type": "Credit Card",
                        "source": "Stripe", "taxes": [{"name": "Sales tax", "amount": "2.04"}], "vis_state": 0}}}}),
    steps=CreateSteps(
        build=build,
        request=lambda built, ctx: api.create(ctx, PATH, KIND, built.body),
        classify=classify,
        read=lambda response, built: _output(api.written(response, KIND), built),
        read_stored=_output,
        lookup=_lookup,
        matches=lambda stored, built, ctx: (api.marked(stored.get("note"), built.source)
                                            and stored.get("date") == built.body["date"]),
    ),
    undo=records.soft_delete(PATH, KIND, verb="DELETE"),
    idempotency="lookup",
)
