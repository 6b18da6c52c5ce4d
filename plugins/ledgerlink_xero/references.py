"""``ledgerlink check`` for Xero: do the account codes, tax types and item codes a recipe names
exist in the organisation, are they active, and is each of the kind its field needs?

An action's input schema marks a reference field with ``"x-ledgerlink-ref"`` (the host's
preflight collects every code a recipe can send there, lookups included):

- ``Account``: an account code (a line's account);
- ``BankAccount``: the code of an account of ``Type`` ``BANK`` (a bank transaction's account,
  both sides of a transfer: https://developer.xero.com/documentation/api/accounting/banktransactions);
- ``PaymentAccount``: a bank account or one with ``EnablePaymentsToAccount``
  (https://developer.xero.com/documentation/api/accounting/payments);
- ``JournalAccount``: any account but a bank account — Xero posts no manual journal to a
  bank account (https://help.xero.com/nz/Q_JournalBankAcc);
- ``TaxRate``: a ``TaxType``; ``Item``: an item ``Code``.

Each entity is read once (``GET /Accounts``, ``/TaxRates``, ``/Items``: Xero answers the
organisation's whole list) and every code is judged against it: "does not exist", "is
archived" (``Status`` ``ARCHIVED``, or ``DELETED`` for a tax rate), or what its kind lacks,
with the fix after "; ".
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.errors import ConfigError

from . import api

#: entity -> (collection, the field a recipe names it by)
ENTITIES = {"Account": ("Accounts", "Code"), "BankAccount": ("Accounts", "Code"),
            "PaymentAccount": ("Accounts", "Code"), "JournalAccount": ("Accounts", "Code"),
            "TaxRate": ("TaxRates", "TaxType"), "Item": ("Items", "Code")}


def _kind_problem(entity: str, row: Mapping[str, Any]) -> str | None:
    """What ``row`` lacks for a field of ``entity``, with the fix; None when it fits."""
    kind = row.get("Type")
    if entity == "BankAccount" and kind != "BANK":
        return f"is of Type {kind}, not a bank account; name a BANK account (Xero moves money only between those)"
    if entity == "PaymentAccount" and kind != "BANK" and row.get("EnablePaymentsToAccount") is not True:
        return (f"is of Type {kind} and takes no payments; name a bank account, or enable payments to it in Xero "
                f"(Chart of accounts > Enable payments to this account)")
    if entity == "JournalAccount" and kind == "BANK":
        return ("is a bank account, which Xero posts no manual journal to; name another account (a bank account "
                "moves by a bank transaction or transfer)")
    return None


def check_references(entity: str, ids: list[str], connection: Connection,
                     declared: Mapping[str, Mapping[str, Any]] | None = None
                     ) -> Generator[Request, Response, dict[str, str]]:
    """``{code: problem}`` for the codes of ``entity`` the organisation lacks, has archived, or
    has of another kind than the field needs."""
    if entity not in ENTITIES:
        raise ConfigError(f"Xero has no {entity!r} entity to check")
    collection, field = ENTITIES[entity]
    ctx = ActionContext(connection=connection, idempotency_key="")
    rows = api.elements((yield api.read(ctx, collection)), collection, collection.lower())
    found = {str(row.get(field)): row for row in rows if row.get(field) is not None}
    verdicts: dict[str, str] = {}
    for code in ids:
        row = found.get(code)
        if row is None:
            verdicts[code] = "does not exist"
        elif row.get("Status") in ("ARCHIVED", "DELETED"):
            verdicts[code] = "is archived"
        else:
            problem = _kind_problem(entity, row)
            if problem is not None:
                verdicts[code] = problem
    return verdicts


__all__ = ["ENTITIES", "check_references"]
