"""The organisation's settings: ``Organisation``, ``Accounts``, ``Currencies``, ``TaxRates`` and
``Items`` (https://developer.xero.com/documentation/api/accounting/organisation, …/accounts,
…/currencies, …/taxrates, …/items), seeded by :mod:`.org`.

``PUT /Accounts`` adds an account to the chart (one bare ``Account``, as Xero takes it): a
``Name`` and ``Type``, a ``Code`` and a name no other account has; a BANK account needs a
``BankAccountNumber`` and a currency the organisation has enabled (its base currency when none
is sent). The rest is read only.

``GET /Organisation`` answers ``{"Organisations": [...]}`` with ``BaseCurrency`` and, when set,
``PeriodLockDate`` and ``EndOfYearLockDate``. Currencies and tax rates are read by their code
(``GET /Currencies/EUR`` is the sandbox's convenience; lists filter with ``where``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ledgerlink.testing.sandbox import Reply

from typing import Any

from .entities import SINGLES, Kind, register
from .org import Organisation

CLASSES = {"BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET", "NONCURRENT": "ASSET",
           "PREPAYMENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
           "EQUITY": "EQUITY", "REVENUE": "REVENUE", "SALES": "REVENUE", "OTHERINCOME": "REVENUE"}


def check_account(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if existing is not None:
        return ["Accounts are created here, not updated"]
    messages = []
    for field in ("Name", "Type"):
        if not str(element.get(field) or "").strip():
            messages.append(f"Please enter a {field} for the account.")
    code, name = str(element.get("Code") or "").strip(), str(element.get("Name") or "").strip().lower()
    if element.get("Type") != "BANK" and not code:
        messages.append("Please enter a Code for the account.")
    for account in org.all("Accounts"):
        if code and account.get("Code") == code:
            messages.append("Please enter a unique Code.")
        if name and str(account.get("Name", "")).lower() == name:
            messages.append("Please enter a unique Name.")
    if element.get("Type") == "BANK":
        if not element.get("BankAccountNumber"):
            messages.append("Please enter a BankAccountNumber for a bank account.")
        currency = element.get("CurrencyCode") or org.base_currency
        if currency not in org.currencies:
            messages.append(f"Organisation is not subscribed to currency {currency}")
    return messages


def save_account(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    account = {**element, "Status": "ACTIVE", "Class": CLASSES.get(element["Type"], "EXPENSE"),
               "TaxType": element.get("TaxType") or "NONE", "EnablePaymentsToAccount":
               bool(element.get("EnablePaymentsToAccount", False)), "ShowInExpenseClaims":
               bool(element.get("ShowInExpenseClaims", False)), "UpdatedDateUTC": org.now()}
    if element["Type"] == "BANK":
        account.update(BankAccountType=element.get("BankAccountType") or "BANK",
                       CurrencyCode=element.get("CurrencyCode") or org.base_currency)
    return dict(org.add("Accounts", account, "AccountID"))


ACCOUNTS = register(Kind("Accounts", "Account", "AccountID", check_account, save_account))
CURRENCIES = register(Kind("Currencies", "Currency", "Code", by_key=True))
TAX_RATES = register(Kind("TaxRates", "TaxRate", "TaxType", by_key=True))
ITEMS = register(Kind("Items", "Item", "ItemID"))


def organisation(org: Organisation, args: Mapping[str, str]) -> Reply:
    """``GET /Organisation``."""
    return Reply.json(200, {"Organisations": [org.organisation()]})


SINGLES["organisation"] = organisation


__all__ = ["ACCOUNTS", "CLASSES", "CURRENCIES", "ITEMS", "TAX_RATES", "check_account", "organisation",
           "save_account"]
