"""``freshbooks.create_expense``: the fees a payment processor kept, one expense per payout.

An expense (https://www.freshbooks.com/api/expenses) is ``POST …/expenses/expenses`` with
``{"expense": {"categoryid", "staffid", "date", "amount": {"amount", "code"}, "vendor",
"notes"}}``. Stripe's fees of one payout are one expense, filed under a category the
business keeps (by id, or by its name — ``Bank Fees``, ``Merchant Fees`` — read from
``GET …/expenses/categories``), from the vendor ``Stripe`` unless the input says otherwise,
by the business's owner (``staffid`` 1) unless the input names another team member.

The source's id (Stripe's ``po_…``) is kept in the expense's ``notes`` (a line ``ledgerlink
source <id>``): a lost answer is found among the expenses of that date
(``search[date_min]`` / ``search[date_max]``). Undo deletes the expense (``vis_state`` 1).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import (Action, ActionContext, CreateSteps, Request, Response, find_created,
                                 perform_create)
from ledgerlink.contract.problems import begin, date, text
from ledgerlink.errors import InputError

from . import api, records
from .errors import classify
from .fields import currency, money_in, positive_id
from .references import ref

ACTION_NAME = "freshbooks.create_expense"
#: the link a run keeps: the action's own name, so `ledgerlink runs undo` deletes what it made
TARGET_TYPE = ACTION_NAME
PATH = "expenses/expenses"
KIND = "expense"
CATEGORIES = "expenses/categories"
#: the business's owner: FreshBooks' staff id of the account's admin
OWNER = 1

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a FreshBooks expense",
    "type": "object",
    "required": ["source_id", "amount", "currency_code", "date"],
    "oneOf": [{"required": ["categoryid"]}, {"required": ["category"]}],
    "additionalProperties": False,
    "properties": {
        "source_id": records.SOURCE_ID,
        "amount": {"type": ["string", "number"], "pattern": r"^[0-9]+(\.[0-9]+)?$",
                   "description": "The fees, a positive decimal string with at most the currency's decimals."},
        "currency_code": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "Their currency, ISO 4217."},
        "date": {"type": "string", "format": "date", "description": "The expense's date (the payout's), YYYY-MM-DD."},
        "categoryid": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, **ref("category"),
                       "description": "The expense category's id; or category, its name."},
        "category": {"type": "string", "minLength": 1,
                     "description": "The expense category's name as the business has it (e.g. Bank Fees)."},
        "vendor": {"type": "string", "maxLength": 255, "default": "Stripe",
                   "description": "Who was paid (default Stripe)."},
        "staffid": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1,
                    "description": "The team member who books it (default 1, the business's owner)."},
        "notes": {"type": "string", "maxLength": 4000,
                  "description": "Notes for the business; the source id's line is added."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["id", "link"],
    "properties": {
        "id": {"type": "string", "description": "The FreshBooks expense id."},
        "amount": {"type": "string", "description": "The amount FreshBooks recorded."},
        "categoryid": {"type": "string", "description": "The category it is filed under."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this expense."},
    },
}

SAMPLE = {"source_id": "po_1NmR8d2eZvKYlo2C3jK9mPqR", "amount": "12.34", "currency_code": "USD",
          "date": "2026-11-30", "categoryid": "5001", "notes": "Stripe fees of payout po_1NmR8d2eZvKYlo2C3jK9mPqR"}


def build(data: Mapping[str, Any], ctx: ActionContext) -> records.Sourced:
    """The expense's body (``data`` with its category resolved to an id); every problem at once."""
    problems = begin(ACTION_NAME, "a FreshBooks expense", data, INPUT_SCHEMA["properties"])
    source = text(data.get("source_id"), "/source_id", "source_id", records.MAX_SOURCE_ID, problems,
                  keeper="ledgerlink")
    code = currency(data.get("currency_code"), problems)
    fees = money_in(data.get("amount"), code, "/amount", "amount", problems)
    day = date(data.get("date"), "/date", problems)
    category = positive_id(data.get("categoryid"), "/categoryid", problems)
    staff = positive_id(data.get("staffid", OWNER), "/staffid", problems)
    vendor = text(data.get("vendor", "Stripe"), "/vendor", "vendor", 255, problems, keeper="FreshBooks")
    notes = text(data.get("notes", ""), "/notes", "notes", 4000, problems, keeper="FreshBooks")
    problems.raise_if_any()
    mark = api.mark(str(source))
    body = {"categoryid": category, "staffid": staff, "date": day, "amount": api.money(fees, code),
            "vendor": vendor, "notes": f"{notes}\n{mark}" if notes else mark}
    return records.Sourced(body=body, total=fees, source=str(source))


def _output(entity: Mapping[str, Any], built: records.Sourced) -> dict[str, Any]:
    money = api.read_money(entity.get("amount"))
    return records.output(entity, built.source, TARGET_TYPE, amount=f"{money[0]:f}" if money else f"{built.total:f}",
                          categoryid=str(entity.get("categoryid") or built.body["categoryid"]))


def _lookup(built: records.Sourced, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    day = built.body["date"]
    return (yield from records.listed(ctx, PATH, "expenses", {"date_min": day, "date_max": day}))


STEPS = CreateSteps(
    build=build,
    request=lambda built, ctx: api.create(ctx, PATH, KIND, built.body),
    classify=classify,
    read=lambda response, built: _output(api.written(response, KIND), built),
    read_stored=_output,
    lookup=_lookup,
    matches=lambda stored, built, ctx: (api.marked(stored.get("notes"), built.source)
                                        and stored.get("date") == built.body["date"]),
)


def resolved(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """``data`` with the category named by its id (read from the business's categories when
    the input names it)."""
    if "category" not in data or "categoryid" in data:
        return dict(data)
    name = data["category"]
    found = yield from api.search(ctx, CATEGORIES, "categories", {})
    ids = [item.get("categoryid") or item.get("id") for item in found
           if isinstance(name, str) and str(item.get("category", "")).casefold() == name.casefold()]
    if len(ids) != 1:
        names = sorted(str(item.get("category")) for item in found)
        raise InputError(f"{ACTION_NAME}: /category: the business has {'no' if not ids else 'several'} expense "
                         f"categories named {name!r}; it has {', '.join(names) or 'none'}")
    return {key: value for key, value in data.items() if key != "category"} | {"categoryid": str(ids[0])}


def create_expense(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Book the fees: one create, the source id in the expense's notes."""
    return (yield from perform_create(STEPS, (yield from resolved(data, ctx)), ctx))


def find_existing(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
    """The expense this step made, among that date's expenses (read-only)."""
    return (yield from find_created(STEPS, (yield from resolved(data, ctx)), ctx))


#: the categories a dry-run's sample answer lists (some of FreshBooks' default expense categories,
#: and the custom subcategories the shipped recipes name: Chargebacks, Returned Payouts)
SAMPLE_CATEGORIES = ("Bank Fees", "Merchant Fees", "Office Expenses", "Chargebacks", "Returned Payouts")


def _sample_response(request: Request) -> Response:
    if request.method == "GET" and request.url.endswith(CATEGORIES):  # a category named, not numbered
        return Response(status=200, json={"response": {"result": {
            "categories": [{"categoryid": 5001 + n, "category": name, "vis_state": 0}
                           for n, name in enumerate(SAMPLE_CATEGORIES)],
            "page": 1, "pages": 1, "per_page": 100, "total": len(SAMPLE_CATEGORIES)}}})
    return Response(status=200, json={"response": {"result": {"expense": {
        "id": 23456, "expenseid": 23456, "categoryid": 5001, "staffid": 1, "date": "2026-11-30",
        "amount": {"amount": "12.34", "code": "USD"}, "vendor": "Stripe", "notes": SAMPLE["notes"], "vis_state": 0}}}})


CREATE_EXPENSE = Action(
    name=ACTION_NAME,
    summary="Books a payout's processor fees as one FreshBooks expense (category by id or name), once per payout.",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE, perform=create_expense,
    sample_response=_sample_response, idempotency="lookup", find_existing=find_existing,
    undo=records.soft_delete(PATH, KIND))
