"""Which currency an account of a transaction is in, and QuickBooks' two-currency rule.

With multicurrency on, every QuickBooks account has one currency (a bank account "Stripe
EUR" is in EUR; income and expense accounts are in the home currency), and one transaction
may touch the home currency and at most one other: the transaction's ``CurrencyRef``. A
transfer from a GBP account in a USD company whose transaction is in EUR, or an expense paid
from a EUR clearing account but written in USD, is refused by QuickBooks.

An account reference of ``create_transfer``, ``create_purchase`` and
``create_sales_receipt`` may therefore declare the account's currency beside its id,
``{"value": "92", "CurrencyRef": "EUR"}`` (``ledgerlink check`` confirms the declaration
against the company, :mod:`.references`): :func:`account_ref` reads such a reference (the
declaration is never sent), and :func:`third_currency` names the declared account whose
currency is neither the home currency nor the transaction's, before any request exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Problems, show

from . import fields

#: the key an account reference declares the account's currency with
DECLARED = "CurrencyRef"


def account_ref(value: Any, where: str, what: str,
                problems: Problems) -> tuple[dict[str, str] | None, str | None]:
    """The account reference QuickBooks is sent, and the currency it declares (None: none).

    ``value`` is an Id string, ``{"value", "name"?}``, or that with ``"CurrencyRef"``
    (an ISO 4217 code) beside it.
    """
    declared = None
    if isinstance(value, Mapping) and DECLARED in value:
        raw = value[DECLARED]
        if isinstance(raw, Mapping) and set(raw) <= {"value", "name"}:
            raw = raw.get("value")
        if isinstance(raw, str) and contract.is_currency(raw):
            declared = raw.upper()
        else:
            problems.add(f"{where}/{DECLARED}", f"must be the account's currency as an ISO 4217 "
                                                f"code such as \"EUR\", got {show(raw)}")
        value = {k: v for k, v in value.items() if k != DECLARED}
    return fields.ref(value, where, what, problems), declared


def third_currency(accounts: list[tuple[str, str | None]], code: str, home: str,
                   what: str, problems: Problems) -> None:
    """A problem for each declared account (``(pointer, currency)``) in a currency that is
    neither ``home`` nor the transaction's ``code``: QuickBooks refuses a transaction that
    touches a third currency."""
    for where, declared in accounts:
        if declared is None or declared in (home, code):
            continue
        problems.add(f"{where}/{DECLARED}",
                     f"the account is in {declared}, but {what} is in {code} and the company's "
                     f"home currency is {home}; QuickBooks refuses a transaction that touches a "
                     f"third currency: use an account in {code} or {home}, or write the "
                     f"transaction in {declared} (CurrencyRef) with its ExchangeRate")


def must_be(where: str, declared: str | None, code: str, role: str, problems: Problems) -> None:
    """A problem when the account at ``where`` declares a currency other than ``code``, the
    one it must be in (``role`` says why, e.g. "the account the expense is paid from")."""
    if declared is not None and declared != code:
        problems.add(f"{where}/{DECLARED}",
                     f"{role} is in {declared}, but the transaction is in {code}; QuickBooks "
                     f"writes a transaction in the currency of {role}: set CurrencyRef to "
                     f"{declared} (with its ExchangeRate) or name an account in {code}")


def undeclared(data: Mapping[str, Any], keys: tuple[str, ...], home: str, what: str,
               action: str) -> Mapping[str, Any]:
    """``data`` with the currency each top-level account reference ``keys`` declares taken
    out, after refusing (:class:`ledgerlink.errors.InputError`) one in a third currency: for
    actions whose references are read by :mod:`.fields`, which knows no declaration."""
    if not isinstance(data, Mapping) or not any(
            isinstance(data.get(key), Mapping) and DECLARED in data[key] for key in keys):
        return data
    problems = Problems(action, what)
    raw = data.get("CurrencyRef", home)
    raw = raw.get("value") if isinstance(raw, Mapping) else raw
    code = raw.upper() if isinstance(raw, str) else home
    out = dict(data)
    for key in keys:
        if isinstance(data.get(key), Mapping) and DECLARED in data[key]:
            ref, currency = account_ref(data[key], f"/{key}", key, problems)
            third_currency([(f"/{key}", currency)], code, home, what, problems)
            out[key] = ref
    problems.raise_if_any()
    return out


__all__ = ["DECLARED", "account_ref", "must_be", "third_currency", "undeclared"]
