"""Reports (``/accounting/account/{account_id}/reports/accounting/<report>``).

``profitloss`` (https://www.freshbooks.com/api/reports; the answer's shape:
report_profit_and_loss.json), accrual based, over ``start_date``..``end_date`` (YYYY-MM-DD,
both given; else the year so far), in the business's currency (documents in other currencies
are left out: the sandbox converts nothing), one column:

- ``income``: ``Sales`` with its child ``Invoice`` (invoices less credit notes, net of tax),
  ``Other Income`` when there is any, and ``Cost of Goods Sold`` (0: the sandbox keeps no stock);
- ``expenses``: ``Other Expenses`` with a child per expense category;
- ``total_income``, ``total_expenses``, ``net_profit`` and ``gross_margin`` (a percentage).

Amounts come from the ledger's postings (:mod:`.ledger`), so the report and the balances
agree by construction.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.testing.sandbox import Reply

from . import errors, resources
from .businesses import Business
from .errors import Problem
from .ledger import CASH, OTHER_INCOME, RECEIVABLE, SALES, SALES_TAX, postings
from .money import money, rounded


def _row(description: str, amount: Decimal, code: str, entry: str, children: list[dict[str, Any]] | None = None,
         unit: str | None = None) -> dict[str, Any]:
    value = money(amount, code) if unit is None else {"amount": str(amount), "code": unit}
    return {"children": children or [], "data": [value], "description": description, "entry_type": entry,
            "total": value}


def profit_and_loss(business: Business, start: str, end: str) -> dict[str, Any]:
    code = business.currency
    sales = Decimal(0)
    other = Decimal(0)
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for posting in postings(business):
        if posting.currency != code or not start <= posting.date <= end:
            continue
        if posting.account == SALES:
            sales -= posting.amount
        elif posting.account == OTHER_INCOME:
            other -= posting.amount
        elif posting.account not in (RECEIVABLE, SALES_TAX, CASH):
            spent[posting.account] += posting.amount
    income = [_row("Sales", sales, code, "credit", [_row("Invoice", sales, code, "credit")])]
    if other:
        income.append(_row("Other Income", other, code, "credit"))
    total_income = sales + other
    total_expenses = sum(spent.values(), Decimal(0))
    margin = rounded(Decimal(100) if total_income else Decimal(0), "USD")
    return {"profitloss": {
        "cash_based": False, "company_name": business.name, "currency_code": code,
        "dates": [{"start_date": start, "end_date": end}], "download_token": f"sandbox-{business.account_id}",
        "start_date": start, "end_date": end, "resolution": "total", "labels": [f"{start} - {end}"],
        "income": [*income, _row("Cost of Goods Sold", Decimal(0), code, "credit")],
        "expenses": [_row("Other Expenses", total_expenses, code, "debit",
                          [_row(name, amount, code, "debit") for name, amount in sorted(spent.items())])],
        "gross_margin": _row("Gross Margin", margin, code, "none", unit="%"),
        "total_income": _row("Gross Profit", total_income, code, "credit"),
        "total_expenses": _row("Total Expenses", total_expenses, code, "debit"),
        "net_profit": _row(f"Net Profit ({code})", total_income - total_expenses, code, "credit"),
    }}


def report(business: Business, name: str, args: Mapping[str, list[str]], shape: str) -> Reply:
    """The report ``name`` (``accounting/profitloss``) of ``business``."""
    if name != "accounting/profitloss":
        return errors.not_found("report", "report", name, shape)
    today = time.strftime("%Y-%m-%d", time.gmtime(business.clock.wall()))
    start = (args.get("start_date") or [today[:4] + "-01-01"])[-1]
    end = (args.get("end_date") or [today])[-1]
    problems = [Problem(errors.INVALID_FIELD, f"{field} must be YYYY-MM-DD.", field, "report", value)
                for field, value in (("start_date", start), ("end_date", end)) if not resources.DATE.match(value)]
    if problems:
        return errors.invalid(problems, shape)
    return resources.envelope(profit_and_loss(business, start, end))


__all__ = ["profit_and_loss", "report"]
