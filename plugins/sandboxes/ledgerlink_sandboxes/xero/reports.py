"""``GET /Reports/TrialBalance``: the organisation's account balances as Xero reports them
(https://developer.xero.com/documentation/api/accounting/reports#trial-balance).

The answer is Xero's ``ReportWithRows`` (the spec's example of this operation is its model):
one report whose first row is the ``Header`` (Account, Debit, Credit, YTD Debit, YTD Credit),
then a ``Section`` per account class that has a balance (Revenue, Expenses, Assets,
Liabilities, Equity), one ``Row`` per account — its first cell ``"<Name> (<Code>)"``, every
cell carrying the ``account`` attribute with the AccountID — then a last untitled section
with the ``SummaryRow`` "Total". Amounts are strings with two decimals in the base currency,
a debit balance in Debit, a credit balance in Credit, an empty string on the other side.

``date`` (YYYY-MM-DD) reports as at that day: only documents dated on or before it count
(:func:`.ledger.balances`). The sandbox keeps no financial years, so the YTD columns repeat
the balance; ``paymentsOnly`` (cash basis) is not imitated and refused with a 400.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.testing.sandbox import Reply

from . import errors
from .entities import SINGLES
from .ledger import balances
from .org import Organisation

#: the report's sections, in Xero's order, by the account ``Class`` they hold
SECTIONS = (("REVENUE", "Revenue"), ("EXPENSE", "Expenses"), ("ASSET", "Assets"), ("LIABILITY", "Liabilities"),
            ("EQUITY", "Equity"))
#: the spec's schema of the answer
SCHEMA = "ReportWithRows"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _cell(value: str, account_id: str | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"Value": value}
    if account_id is not None:
        cell["Attributes"] = [{"Value": account_id, "Id": "account"}]
    return cell


def _sides(balance: Decimal) -> tuple[str, str]:
    """(Debit, Credit) cells of a debit-positive balance."""
    return (f"{balance:.2f}", "") if balance >= 0 else ("", f"{-balance:.2f}")


def trial_balance(org: Organisation, args: Mapping[str, str]) -> Reply:
    """The answer to ``GET /Reports/TrialBalance``."""
    until = args.get("date") or None
    if until is not None and not DAY.match(until):
        return errors.bad_request(f"The date '{until}' is not a valid date")
    if str(args.get("paymentsOnly", "")).lower() == "true":
        return errors.bad_request("The sandbox does not report on the cash basis (paymentsOnly)")
    accounts = {str(a.get("Code")): a for a in org.all("Accounts")}
    moved = balances(org, until)
    sections: list[dict[str, Any]] = []
    debits = credits = Decimal("0.00")
    for klass, title in SECTIONS:
        rows = []
        for code, figures in moved.items():
            account = accounts.get(code)
            balance = figures["BaseBalance"]
            if account is None or account.get("Class") != klass or not balance:
                continue
            debit, credit = _sides(balance)
            debits += balance if balance > 0 else 0
            credits += -balance if balance < 0 else 0
            ident = str(account["AccountID"])
            rows.append({"RowType": "Row", "Cells": [_cell(f"{account['Name']} ({code})", ident)] + [
                _cell(value, ident) for value in (debit, credit, debit, credit)]})
        if rows:
            sections.append({"RowType": "Section", "Title": title, "Rows": rows})
    total = [_cell("Total")] + [_cell(f"{value:.2f}") for value in (debits, credits, debits, credits)]
    day = until or time.strftime("%Y-%m-%d", time.gmtime(org.clock.wall()))
    as_at = time.strftime("%d %B %Y", time.strptime(day, "%Y-%m-%d")).lstrip("0")
    report = {"ReportID": "TrialBalance", "ReportName": "Trial Balance", "ReportType": "TrialBalance",
              "ReportTitles": ["Trial Balance", org.name, f"As at {as_at}"], "ReportDate": as_at,
              "UpdatedDateUTC": org.now(), "Fields": [],
              "Rows": [{"RowType": "Header", "Cells": [_cell(name) for name in (
                  "Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]}] + sections + [
                  {"RowType": "Section", "Title": "", "Rows": [{"RowType": "SummaryRow", "Cells": total}]}]}
    return Reply.json(200, {"Reports": [report]})


SINGLES["reports/trialbalance"] = trial_balance

__all__ = ["SCHEMA", "SECTIONS", "trial_balance"]
