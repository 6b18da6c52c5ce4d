"""The QuickBooks connector's part in ``ledgerlink demo``: a connection to its loopback sandbox,
the amount a refused journal entry, invoice or other sales form was to book, the accounts a
booking recipe names made in the sandbox company, and their balances.

:func:`prepare` does what an integrator does before the first run: each account and item a
recipe's lookups name is found by name (``SELECT * FROM Account``, Intuit's query language:
https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries),
and an account the company lacks is created (``POST /account``:
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/account) as the
recipe declares it (``AccountType``), else as a bank account in the currency its row is keyed
by (a clearing account per settlement currency), else as an expense account.
:func:`balances` reads each account's ``CurrentBalance``, in the account's currency.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink.contract import (Connection, Demo, LookupReference, Request, Response, answer_decimal,
                                 is_currency)
from ledgerlink.errors import DemoError

from .api import JSON_HEADERS, classify, entity_url, params
from .queries import run_query

#: the subtype an account of each type is created with when the recipe declares none
SUBTYPES = {"Bank": "Checking", "Expense": "OtherMiscellaneousServiceCost", "Income": "ServiceFeeIncome",
            "Other Current Asset": "OtherCurrentAssets"}


def booked_amount(data: Mapping[str, Any]) -> tuple[Decimal, str] | None:
    """What a mapped input was to book: its ``Amount`` or the sum of its Debit lines, in its
    ``CurrencyRef``; None when the input says neither (or the total is zero)."""
    currency = data.get("CurrencyRef")
    currency = currency.get("value") if isinstance(currency, dict) else currency
    try:
        if "Amount" in data:
            total = Decimal(str(data["Amount"]))
        else:
            total = sum((Decimal(str(line["Amount"])) for line in data.get("Lines") or []
                         if isinstance(line, dict) and line.get("PostingType") == "Debit"), Decimal(0))
    except (InvalidOperation, KeyError, TypeError):
        return None
    if not total or not isinstance(currency, str):
        return None
    return total, currency


def _everything(settings: Mapping[str, Any], entity: str) -> Generator[Request, Response, list[dict[str, Any]]]:
    return (yield from run_query(settings, entity, f"SELECT * FROM {entity} MAXRESULTS 1000"))


def _new_account(name: str, ref: LookupReference, home: str) -> dict[str, Any]:
    """The body of a new account for ``ref``, named ``name``."""
    declared = ref.reference if isinstance(ref.reference, Mapping) else {}
    body: dict[str, Any] = {"Name": name}
    if isinstance(declared.get("AccountType"), str):
        body["AccountType"] = declared["AccountType"]
    elif is_currency(ref.key):  # a row per currency: the clearing account of that currency
        body["AccountType"] = "Bank"
        if ref.key.upper() != home:
            body["CurrencyRef"] = {"value": ref.key.upper()}
    else:
        body["AccountType"] = "Expense"
    subtype = declared.get("AccountSubType") or SUBTYPES.get(body["AccountType"])
    if subtype:
        body["AccountSubType"] = subtype
    return body


def prepare(connection: Connection, references: Sequence[LookupReference]
            ) -> Generator[Request, Response, dict[tuple[str, str], str]]:
    """Each account and item the lookups name, found by name (an account created when the
    company lacks it); the company's id per (table, key)."""
    settings = connection.settings
    home = str(settings.get("home_currency") or "USD").upper()
    named = {"Account": {a.get("Name"): a for a in (yield from _everything(settings, "Account"))},
             "Item": {i.get("Name"): i for i in (yield from _everything(settings, "Item"))}}
    ids: dict[tuple[str, str], str] = {}
    for ref in references:
        name = ref.reference.get("name") if isinstance(ref.reference, Mapping) else None
        if ref.entity not in named or not isinstance(name, str):
            continue  # named by id alone (a tax code): as the recipe has it
        found = named[ref.entity].get(name)
        if found is None and ref.entity == "Account":
            response = yield Request("POST", entity_url(settings, "account"), params=params(None),
                                     headers=JSON_HEADERS, json=_new_account(name, ref, home))
            error = classify(response)
            if error is not None:
                raise error
            found = named["Account"][name] = (response.json or {}).get("Account") or {}
        if found is not None and found.get("Id"):
            ids[(ref.table, ref.key)] = str(found["Id"])
    return ids


def balances(connection: Connection, accounts: Mapping[str, Any]
             ) -> Generator[Request, Response, dict[str, tuple[Decimal, str]]]:
    """Each account's ``CurrentBalance`` and currency, by label; ``accounts`` holds references
    as a lookup row does (an id, or an object with the id in ``value``)."""
    settings = connection.settings
    home = str(settings.get("home_currency") or "USD").upper()
    by_id = {str(a.get("Id")): a for a in (yield from _everything(settings, "Account"))}
    found: dict[str, tuple[Decimal, str]] = {}
    for label, ref in accounts.items():
        ident = str(ref.get("value") if isinstance(ref, Mapping) else ref)
        account = by_id.get(ident)
        balance = answer_decimal(account.get("CurrentBalance")) if account else None
        if account is None or balance is None:
            raise DemoError(f"QuickBooks has no account {ident} with a balance (for {label})")
        currency = account.get("CurrencyRef", {}).get("value") or home
        found[label] = (balance, str(currency).upper())
    return found


DEMO = Demo(
    # the realm the sandbox seeds, the home currency of its company, and the access token it
    # always accepts
    settings={"realm_id": "9130350000000000", "home_currency": "USD",
              "access_token": "sandbox-access-token"},
    entry_title="QuickBooks entry",
    amount=booked_amount,
    prepare=prepare,
    balances=balances,
)
