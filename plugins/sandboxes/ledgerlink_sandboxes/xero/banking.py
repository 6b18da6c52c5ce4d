"""Bank transactions and bank transfers
(https://developer.xero.com/documentation/api/accounting/banktransactions, …/banktransfers).

A bank transaction (``RECEIVE`` money in, ``SPEND`` money out; a fee is a SPEND) names a
``Contact``, a ``BankAccount`` (``Code`` or ``AccountID``) that is a bank account, and line items
computed as an invoice's (:mod:`.invoices`); it is in its bank account's currency. A transfer
moves ``Amount`` between two different bank accounts of one currency: between two currencies
Xero would take its own rate of the day (a transfer's ``CurrencyRate`` is read-only in Xero's
spec), which the sandbox does not keep, so it refuses one. Dates on or before a lock date are
refused. An authorised transaction not reconciled is updated by replacing its ``LineItems``,
or deleted by ``Status: DELETED``; a transfer is deleted by ``POST /BankTransfers/{id}``
``{"Status": "DELETED"}`` (and then posts nothing).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .entities import Kind, register
from .invoices import cents, contact_of, line_items, totals, xero_date
from .org import Organisation, new_id

TYPES = ("RECEIVE", "SPEND")


def _bank(org: Organisation, sent: Any) -> dict[str, Any] | None:
    if not isinstance(sent, dict):
        return None
    found = org.get("Accounts", str(sent["AccountID"])) if sent.get("AccountID") else \
        org.account_by_code(str(sent.get("Code"))) if sent.get("Code") else None
    return found if found is not None and found.get("Type") == "BANK" else None


def _locked(org: Organisation, element: dict[str, Any]) -> list[str]:
    date = element.get("Date")
    message = org.locked(date) if isinstance(date, str) else None
    return [message] if message else []


def check_transaction(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if existing is not None:
        return _update_problems(org, element, existing)
    messages = []
    if element.get("Type") not in TYPES:
        messages.append(f"Bank transaction type must be one of {', '.join(TYPES)}")
    messages += contact_of(org, element.get("Contact"))[1]
    bank = _bank(org, element.get("BankAccount"))
    if bank is None:
        messages.append("A valid bank account must be specified")
    elif element.get("CurrencyCode") and element["CurrencyCode"] != bank["CurrencyCode"]:
        messages.append("The currency of a bank transaction must match its bank account's currency")
    lines, line_messages = line_items(org, element)
    messages += line_messages
    if not lines and not line_messages:
        messages.append("A bank transaction must have at least one line item")
    return messages + _locked(org, element)


def _update_problems(org: Organisation, element: dict[str, Any], existing: dict[str, Any]) -> list[str]:
    """An update deletes (``Status: DELETED``) or replaces the line items of an authorised
    transaction not yet reconciled with a bank statement, as in Xero."""
    if element.get("Status") == "DELETED":
        return []
    if "LineItems" not in element or element.get("Status", existing["Status"]) != existing["Status"]:
        return ["A bank transaction's update here deletes it (Status DELETED) or replaces its LineItems"]
    if existing["Status"] != "AUTHORISED":
        return ["This Bank Transaction cannot be edited as it has been deleted."]
    if existing.get("IsReconciled"):
        return ["This Bank Transaction cannot be edited as it has been reconciled with a Bank Statement."]
    lines, messages = line_items(org, {"LineAmountTypes": existing["LineAmountTypes"], **element})
    return messages or ([] if lines else ["A bank transaction must have at least one line item"])


def save_transaction(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    if existing is not None and element.get("Status") == "DELETED":
        existing.update(Status="DELETED", UpdatedDateUTC=org.now())
        return dict(existing)
    if existing is not None:  # its line items replaced, its totals worked out again
        kind = element.get("LineAmountTypes") or existing["LineAmountTypes"]
        lines, _ = line_items(org, {"LineAmountTypes": kind, **element})
        existing.update(LineItems=lines, LineAmountTypes=kind, **totals(org, lines, kind), UpdatedDateUTC=org.now())
        return dict(existing)
    contact, _ = contact_of(org, element["Contact"])
    if contact is None:
        contact = org.add("Contacts", {"Name": element["Contact"]["Name"].strip(), "ContactStatus": "ACTIVE",
                                       "UpdatedDateUTC": org.now()}, "ContactID")
    bank = _bank(org, element["BankAccount"])
    lines, _ = line_items(org, element)
    kind = element.get("LineAmountTypes") or "Exclusive"
    currency = bank["CurrencyCode"]  # type: ignore[index]
    rate = Decimal("1") if currency == org.base_currency else Decimal(str(element.get("CurrencyRate") or 1))
    transaction = {"Type": element["Type"], "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
                   "BankAccount": {"AccountID": bank["AccountID"], "Code": bank["Code"], "Name": bank["Name"]},  # type: ignore[index]
                   "LineItems": lines, "LineAmountTypes": kind, **totals(org, lines, kind),
                   "Date": xero_date(org, element.get("Date")), "CurrencyCode": currency, "CurrencyRate": rate,
                   "Status": "AUTHORISED", "IsReconciled": bool(element.get("IsReconciled", False)),
                   "HasAttachments": False, "UpdatedDateUTC": org.now()}
    if element.get("Reference"):
        transaction["Reference"] = element["Reference"]
    return dict(org.add("BankTransactions", transaction, "BankTransactionID"))


def check_transfer(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if existing is not None:  # POST /BankTransfers/{id} {"Status": "DELETED"}: Xero's one update of a transfer
        if element.get("Status") != "DELETED":
            return ["A bank transfer can only be deleted (Status DELETED)"]
        return ["This Bank Transfer has already been deleted."] if existing.get("Status") == "DELETED" else []
    messages = []
    source, target = _bank(org, element.get("FromBankAccount")), _bank(org, element.get("ToBankAccount"))
    if source is None or target is None:
        messages.append("A valid FromBankAccount and ToBankAccount must be specified")
    elif source["AccountID"] == target["AccountID"]:
        messages.append("The FromBankAccount and ToBankAccount must be different")
    elif source["CurrencyCode"] != target["CurrencyCode"]:
        # Xero books it at its own rate of the day (a transfer's CurrencyRate is read-only in its
        # spec); the sandbox keeps no day rates, so it refuses instead of inventing one
        messages.append(f"A transfer from {source['CurrencyCode']} into {target['CurrencyCode']} would be booked at "
                        f"Xero's rate of the day (a BankTransfer's CurrencyRate is read-only), which this sandbox "
                        f"does not keep: book it as spend and receive money at your own CurrencyRate")
    if Decimal(str(element.get("Amount", 0))) <= 0:
        messages.append("The Amount must be greater than zero")
    return messages + _locked(org, element)


def save_transfer(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    if existing is not None:
        existing["Status"] = "DELETED"
        return dict(existing)
    source, target = _bank(org, element["FromBankAccount"]), _bank(org, element["ToBankAccount"])
    transfer = {"FromBankAccount": {"AccountID": source["AccountID"], "Code": source["Code"], "Name": source["Name"]},  # type: ignore[index]
                "ToBankAccount": {"AccountID": target["AccountID"], "Code": target["Code"], "Name": target["Name"]},  # type: ignore[index]
                "Amount": cents(Decimal(str(element["Amount"]))), "CurrencyRate": Decimal("1"),
                "Date": xero_date(org, element.get("Date")), "HasAttachments": False,
                "FromIsReconciled": False, "ToIsReconciled": False, "CreatedDateUTC": org.now()}
    if element.get("Reference"):
        transfer["Reference"] = element["Reference"]
    saved = org.add("BankTransfers", transfer, "BankTransferID")
    saved["FromBankTransactionID"], saved["ToBankTransactionID"] = new_id(), new_id()
    return dict(saved)


BANK_TRANSACTIONS = register(Kind("BankTransactions", "BankTransaction", "BankTransactionID",
                                  check_transaction, save_transaction))
BANK_TRANSFERS = register(Kind("BankTransfers", "BankTransfer", "BankTransferID", check_transfer, save_transfer))

__all__ = ["BANK_TRANSACTIONS", "BANK_TRANSFERS", "TYPES", "check_transaction", "check_transfer",
           "save_transaction", "save_transfer"]
