"""Read-only checks that the ids a recipe names exist and are active in the company.

``ledgerlink check`` asks, per entity, ``SELECT * FROM <Entity> WHERE Id IN (…) AND Active IN
(true, false)`` and reports every id that is missing or has ``Active = false`` — so "Account
must be valid" and a missing tax code show up before the first live event, not after
(MARKET.md pain 10, 15). The ``Active`` condition is needed: QBO answers a query of a list
entity that names no ``Active`` with the active ones only, so an inactive id would look
missing.

An account reference of a journal entry line may declare the account's ``AccountType`` (so
the action refuses a line on Accounts Receivable or Accounts Payable without its customer or
vendor before any request): the company's own type must be the declared one, and an A/R or
A/P account referenced where a type could be declared, but is not, is reported too — without
the declaration, such a line without a name would reach QuickBooks and be refused there.
An account of a transfer, expense or sales receipt may declare its ``CurrencyRef``
(:mod:`.account_currencies`): the company's account must be in that currency.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Connection, Request, Response
from ledgerlink.errors import ConfigError

from .queries import quote, run_query
from .journal_entry import NAME_REQUIRED

#: what QuickBooks calls the entity an annotation names
ENTITIES = {"Account": "Account", "Item": "Item", "TaxCode": "TaxCode", "Class": "Class",
            "Department": "Department", "Customer": "Customer", "Vendor": "Vendor", "Employee": "Employee"}


def _an(account_type: Any) -> str:
    return f"{'an' if str(account_type)[:1] in 'AEIOU' else 'a'} {account_type} account"


def _account_type(row: Mapping[str, Any], declared: Mapping[str, Any]) -> str | None:
    """The problem with what the recipe declares about an account, or None."""
    if "AccountType" not in declared:
        return None
    actual, said = row.get("AccountType"), declared["AccountType"]
    if said is None:
        needed = NAME_REQUIRED.get(str(actual))
        if needed is None:
            return None
        return (f"is {_an(actual)}; declare \"AccountType\": \"{actual}\" beside its Id, so that "
                f"a journal line on it without a {needed} is refused before any request")
    if said != actual:
        return f"is {_an(actual)} (the recipe declares {said}); correct the declared AccountType or the id"
    return None


def _currency(row: Mapping[str, Any], declared: Mapping[str, Any]) -> str | None:
    """The problem with the currency a recipe declares for an account, or None."""
    said = declared.get("CurrencyRef")
    if said is None:
        return None
    currency = row.get("CurrencyRef")
    actual = currency.get("value") if isinstance(currency, Mapping) else currency
    if not isinstance(actual, str) or actual.upper() == str(said).upper():
        return None
    return (f"is in {actual} (the recipe declares CurrencyRef {said}); correct the declared "
            f"CurrencyRef or the id")


def check_references(entity: str, ids: list[str], connection: Connection,
                     declared: Mapping[str, Mapping[str, Any]] | None = None
                     ) -> Generator[Request, Response, dict[str, str]]:
    """``{id: problem}`` for the ids of ``entity`` that QuickBooks does not have, or has
    inactive, or whose declared ``AccountType`` is not the company's."""
    name = ENTITIES.get(entity)
    if name is None:
        raise ConfigError(f"QuickBooks has no {entity!r} entity to check")
    verdicts: dict[str, str] = {}
    for start in range(0, len(ids), 100):
        chunk = ids[start:start + 100]
        query = (f"SELECT * FROM {name} WHERE Id IN ({', '.join(quote(i) for i in chunk)}) "
                 f"AND Active IN (true, false) MAXRESULTS 1000")
        rows = yield from run_query(connection.settings, name, query)
        found: dict[str, Mapping[str, Any]] = {str(row.get("Id")): row for row in rows}
        for ident in chunk:
            row = found.get(ident)
            if row is None:
                verdicts[ident] = "does not exist"
            elif row.get("Active") is False:
                verdicts[ident] = "is inactive"
            elif name == "Account" and declared and ident in declared:
                problem = _account_type(row, declared[ident]) or _currency(row, declared[ident])
                if problem is not None:
                    verdicts[ident] = problem
    return verdicts
