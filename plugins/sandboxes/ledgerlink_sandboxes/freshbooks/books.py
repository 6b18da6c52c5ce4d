"""The other resources the sandbox keeps: expenses, other incomes, taxes, items, and the
expense categories they are filed under.

- **Expenses** (``expenses/expenses``, https://www.freshbooks.com/api/expenses; the answer's
  shape: get_expense_response.json): ``categoryid`` (one of ``expenses/categories``),
  ``amount`` (the business's currency unless a ``code`` says otherwise), ``date``, ``staffid``
  (1, the business's owner, here), a ``vendor`` and ``notes``. Deleted by ``vis_state: 1``.
- **Other incomes** (``other_incomes/other_incomes``, https://www.freshbooks.com/api/other-income;
  get_other_income_response.json): money received outside invoices: ``amount``,
  ``category_name`` (one of :data:`INCOME_CATEGORIES`), ``date``, ``payment_type``, ``source``
  and ``taxes`` (``[{"name", "amount"}]``, the tax amounts, taken as included in ``amount``).
  The list key is ``other_income`` too, as FreshBooks answers it; deleted by ``DELETE``.
- **Taxes** (``taxes/taxes``, get_tax_response.json): ``name`` and ``amount`` (the percentage, a
  string), ``number``, ``compound``; deleted by ``DELETE``.
- **Items** (``items/items``, get_item_response.json): ``name``, ``unit_cost``, ``qty``, ``sku``,
  ``tax1``/``tax2`` (tax ids).
- **Expense categories** (``expenses/categories``): read only, as seeded
  (:mod:`.businesses`).
"""

from __future__ import annotations

from typing import Any

from . import errors, resources
from .businesses import Business
from .errors import Problem
from .money import amount_of, currency_of, decimal, money

#: the categories of other income (https://www.freshbooks.com/api/other-income)
INCOME_CATEGORIES = ("advertising", "in_person_sales", "online_sales", "rentals", "other")
PAYMENT_TYPES = ("Cash", "Check", "Credit", "Credit Card", "Bank Transfer", "Debit", "PayPal", "Other")


def _date(fields: dict[str, Any], what: str, problems: list[Problem], required: bool = True) -> None:
    if (required or "date" in fields) and not resources.DATE.match(str(fields.get("date", ""))):
        problems.append(Problem(errors.INVALID_FIELD, "date must be YYYY-MM-DD.", "date", what, str(fields.get("date"))))


# --- expenses -------------------------------------------------------------------------------

def _expense_fields(business: Business, fields: dict[str, Any], currency: str,
                    problems: list[Problem]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "categoryid" in fields:
        category = business.get("categories", fields["categoryid"]) if isinstance(fields["categoryid"], int) else None
        if category is None:
            problems.append(Problem(errors.NOT_FOUND, "Category not found.", "categoryid", "expense",
                                    str(fields["categoryid"])))
        out["categoryid"] = fields["categoryid"]
    if "amount" in fields:
        currency = currency_of((fields["amount"] or {}).get("code") if isinstance(fields["amount"], dict) else None,
                               currency, "expense", problems)
        amount = amount_of(fields["amount"], "amount", "expense", currency, problems)
        if amount is not None and amount <= 0:
            problems.append(Problem(errors.INVALID_FIELD, "amount must be more than zero.", "amount.amount", "expense"))
        if amount is not None:
            out["amount"] = money(amount, currency)
    if "staffid" in fields and fields["staffid"] != 1:
        problems.append(Problem(errors.NOT_FOUND, "Staff not found.", "staffid", "expense", str(fields["staffid"])))
    _date(fields, "expense", problems, required=False)
    out.update({key: fields[key] for key in ("date", "vendor", "notes", "clientid", "invoiceid", "markup_percent",
                                              "taxName1", "taxName2", "staffid") if key in fields})
    return out


def create_expense(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems: list[Problem] = []
    for required in ("categoryid", "amount", "date", "staffid"):
        if required not in fields:
            problems.append(Problem(errors.INVALID_FIELD, f"{required} is required.", required, "expense"))
    out = _expense_fields(business, fields, business.currency, problems)
    if problems:
        return None, problems
    expense = {"account_name": "", "accountid": None, "accounting_systemid": business.account_id,
               "background_jobid": None, "bank_name": "", "billable": False, "clientid": 0, "compounded_tax": False,
               "ext_invoiceid": 0, "ext_systemid": 0, "has_receipt": False, "include_receipt": False,
               "invoiceid": None, "is_cogs": False, "isduplicate": False, "markup_percent": "0", "notes": "",
               "profileid": None, "projectid": 0, "status": 0, "taxAmount1": None, "taxAmount2": None,
               "taxName1": None, "taxName2": None, "taxPercent1": None, "taxPercent2": None, "transactionid": None,
               "updated": business.now(), "vendor": "", "vis_state": 0, **out}
    return business.add("expenses", expense), []


def update_expense(business: Business, expense: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    out = _expense_fields(business, changes, expense["amount"]["code"], problems)
    if not problems:
        expense.update(out)
    return problems


# --- other incomes --------------------------------------------------------------------------

def _income_fields(business: Business, fields: dict[str, Any], currency: str,
                   problems: list[Problem]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "amount" in fields:
        code = fields["amount"].get("code") if isinstance(fields["amount"], dict) else None
        currency = currency_of(code, currency, "other_income", problems)
        amount = amount_of(fields["amount"], "amount", "other_income", currency, problems)
        if amount is not None:
            out["amount"] = money(amount, currency)
    if "category_name" in fields and fields["category_name"] not in INCOME_CATEGORIES:
        problems.append(Problem(errors.INVALID_FIELD, f"category_name must be one of {', '.join(INCOME_CATEGORIES)}.",
                                "category_name", "other_income", str(fields["category_name"])))
    if "payment_type" in fields and fields["payment_type"] not in PAYMENT_TYPES:
        problems.append(Problem(errors.INVALID_FIELD, f"payment_type must be one of {', '.join(PAYMENT_TYPES)}.",
                                "payment_type", "other_income", str(fields["payment_type"])))
    for index, tax in enumerate(fields.get("taxes") or []):
        decimal(tax.get("amount", "0"), f"taxes.{index}.amount", "other_income", problems)
    _date(fields, "other_income", problems, required=False)
    out.update({key: fields[key] for key in ("category_name", "date", "note", "payment_type", "source")
                if key in fields})
    if "taxes" in fields:
        out["taxes"] = [{"name": str(t.get("name", "")), "amount": str(t.get("amount", "0"))} for t in fields["taxes"]]
    return out


def create_income(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems: list[Problem] = []
    out = _income_fields(business, fields, business.currency, problems)
    if problems:
        return None, problems
    now = business.now()
    income = {"created_at": now, "note": "", "payment_type": "Other", "source": "", "sourceid": None, "taxes": [],
              "updated_at": now, "userid": None, "vis_state": 0, **out}
    return business.add("other_incomes", income), []


def update_income(business: Business, income: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    out = _income_fields(business, changes, income["amount"]["code"], problems)
    if not problems:
        income.update(out)
    return problems


# --- taxes and items ------------------------------------------------------------------------

def create_tax(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems: list[Problem] = []
    decimal(fields.get("amount", "0"), "amount", "tax", problems, max_places=3)
    if problems:
        return None, problems
    return business.add("taxes", {"accounting_systemid": business.account_id, "name": fields["name"],
                                  "number": fields.get("number"), "amount": str(fields.get("amount", "0")),
                                  "compound": bool(fields.get("compound", False)), "updated": business.now()}), []


def update_tax(business: Business, tax: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if "amount" in changes:
        decimal(changes["amount"], "amount", "tax", problems, max_places=3)
    if not problems:
        tax.update({key: str(value) if key == "amount" else value for key, value in changes.items()
                    if key in ("name", "number", "amount", "compound")})
    return problems


def create_item(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems: list[Problem] = []
    cost = amount_of(fields.get("unit_cost", {"amount": "0"}), "unit_cost", "item", business.currency, problems)
    if problems or cost is None:
        return None, problems
    return business.add("items", {"accounting_systemid": business.account_id, "name": fields["name"],
                                  "description": fields.get("description", ""), "inventory": fields.get("inventory"),
                                  "qty": str(fields.get("qty", "0")), "sku": fields.get("sku", ""),
                                  "tax1": fields.get("tax1", 0), "tax2": fields.get("tax2", 0),
                                  "unit_cost": money(cost, business.currency), "updated": business.now(),
                                  "vis_state": 0}), []


def update_item(business: Business, item: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    cost = amount_of(changes["unit_cost"], "unit_cost", "item", business.currency, problems) \
        if "unit_cost" in changes else None
    if not problems:
        item.update({key: value for key, value in changes.items() if key in ("name", "description", "sku", "tax1",
                                                                            "tax2", "inventory")})
        if "qty" in changes:
            item["qty"] = str(changes["qty"])
        if cost is not None:
            item["unit_cost"] = money(cost, business.currency)
    return problems


def _read_only(business: Business, *_args: Any) -> Any:
    raise NotImplementedError  # pragma: no cover - the door refuses writes without a schema


EXPENSES = resources.register(resources.Kind(
    collection="expenses", path="expenses/expenses", singular="expense", create_schema="ExpenseCreateObject",
    update_schema="ExpenseUpdateObject", create=create_expense, update=update_expense, event="expense"))
OTHER_INCOMES = resources.register(resources.Kind(
    collection="other_incomes", path="other_incomes/other_incomes", singular="other_income",
    create_schema="OtherIncomeCreateObject", update_schema="OtherIncomeCreateObject", create=create_income,
    update=update_income, deletable=True, list_key="other_income"))
TAXES = resources.register(resources.Kind(
    collection="taxes", path="taxes/taxes", singular="tax", create_schema="TaxCreateObject",
    update_schema="TaxUpdateObject", create=create_tax, update=update_tax, deletable=True, event="tax"))
ITEMS = resources.register(resources.Kind(
    collection="items", path="items/items", singular="item", create_schema="ItemCreateObject",
    update_schema="ItemCreateObject", create=create_item, update=update_item, event="item"))
CATEGORIES = resources.register(resources.Kind(
    collection="categories", path="expenses/categories", singular="category", create_schema=None,
    update_schema=None, create=_read_only, update=_read_only))

__all__ = ["CATEGORIES", "EXPENSES", "INCOME_CATEGORIES", "ITEMS", "OTHER_INCOMES", "TAXES"]
