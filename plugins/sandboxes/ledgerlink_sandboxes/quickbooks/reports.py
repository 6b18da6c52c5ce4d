"""``GET /v3/company/<realm>/reports/TrialBalance``: the trial balance, as QBO's Reports API
serves it.

The shape is Intuit's ``Report`` (Report.xsd, copied beside this package): a ``Header``
(``Time``, ``ReportName``, ``ReportBasis``, ``StartPeriod``, ``EndPeriod``, ``Currency``,
``Option``), ``Columns`` (the account, then ``Debit`` and ``Credit`` of type Money) and
``Rows.Row``: one Data row per account with a balance, ``ColData`` ``[{"value": name,
"id": Id}, {"value": debit}, {"value": credit}]`` (the other side ``""``), then a
GrandTotal Section row whose ``Summary`` holds ``TOTAL`` and the two totals, which are
equal. Amounts are strings with the home currency's decimals, as QBO's reports give
them; every figure is in the home currency, at the rates the postings were made.
(Intuit: developer.intuit.com/app/developer/qbo/docs/api/accounting/report-entities/
trialbalance.)

Query parameters: ``end_date`` (YYYY-MM-DD; postings dated after it are left out) and
``start_date`` (only echoed as ``StartPeriod``: a trial balance is cumulative; QBO
carries the earlier years' income into retained earnings, which the sandbox does not).
``accounting_method`` is echoed as ``ReportBasis`` (Accrual by default; the sandbox
posts on the accrual basis only). Rows are ordered as QBO's chart of accounts is: by
classification (assets, liabilities, equity, income, expenses), then account name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import faults
from .ledger import Ledger, rounded

_ORDER = {"Asset": 0, "Liability": 1, "Equity": 2, "Revenue": 3, "Expense": 4}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _money(amount: Decimal, home: str) -> str:
    return str(rounded(amount, home))


def _date(args: Mapping[str, str], key: str, default: str) -> str:
    value = args.get(key)
    if value is None:
        return default
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        dt.date.fromisoformat(value)
    except ValueError:
        raise faults.validation("Request has invalid or unsupported property", "2010",
                                f"Property Name:{key}={value!r} specified is unsupported or "
                                f"invalid: give a date as YYYY-MM-DD", key) from None
    return value


def trial_balance(ledger: Ledger, accounts: Mapping[str, Mapping[str, Any]],
                  args: Mapping[str, str], now: str, today: str) -> dict[str, Any]:
    """The TrialBalance report of the company whose ledger and accounts are given."""
    home = ledger.home
    end = _date(args, "end_date", today)
    start = _date(args, "start_date", today[:8] + "01")
    balances = ledger.balances(end)

    def order(account_id: str) -> tuple[int, str]:
        row = accounts.get(account_id) or {}
        return _ORDER.get(str(row.get("Classification")), 5), str(row.get("FullyQualifiedName") or "")

    rows: list[dict[str, Any]] = []
    debits = credits = Decimal(0)
    for account_id in sorted(balances, key=order):
        balance = balances[account_id]
        row = accounts.get(account_id) or {}
        name = str(row.get("FullyQualifiedName") or row.get("Name") or account_id)
        if balance > 0:
            debits += balance
            cells = [_money(balance, home), ""]
        else:
            credits -= balance
            cells = ["", _money(-balance, home)]
        rows.append({"ColData": [{"value": name, "id": account_id},
                                 *({"value": cell} for cell in cells)], "type": "Data"})
    rows.append({"Summary": {"ColData": [{"value": "TOTAL"}, {"value": _money(debits, home)},
                                         {"value": _money(credits, home)}]},
                 "type": "Section", "group": "GrandTotal"})
    return {
        "Header": {"Time": now, "ReportName": "TrialBalance",
                   "ReportBasis": args.get("accounting_method") or "Accrual",
                   "StartPeriod": start, "EndPeriod": end, "Currency": home,
                   "Option": [{"Name": "NoReportData", "Value": "false" if len(rows) > 1 else "true"}]},
        "Columns": {"Column": [{"ColTitle": "", "ColType": "Account"},
                               {"ColTitle": "Debit", "ColType": "Money"},
                               {"ColTitle": "Credit", "ColType": "Money"}]},
        "Rows": {"Row": rows},
    }


#: the reports the sandbox serves, by the name in ``…/reports/<name>``
REPORTS = {"TrialBalance": trial_balance}

__all__ = ["REPORTS", "trial_balance"]
