"""Manual journals (https://developer.xero.com/documentation/api/accounting/manualjournals).

A manual journal needs a ``Narration`` and at least two ``JournalLines``, each on an account
that exists (``AccountCode``) with at most two ``Tracking`` categories; its lines balance
(debits positive, credits negative, summing to zero) or Xero answers "The total debits (…) must
equal total credits (…)". No line may be on a bank account: "You can't post a manual journal to
a bank account in Xero" (https://help.xero.com/nz/Q_JournalBankAcc; a spend or receive money
transaction moves a bank account instead; the message's wording is the sandbox's). ``Status`` is DRAFT unless POSTED is sent; a date on or before a lock
date is refused. ``POST`` with its id and ``Status: VOIDED`` voids a POSTED journal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .entities import Kind, register
from .invoices import cents, xero_date
from .org import Organisation


def check(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if existing is not None:
        wanted = element.get("Status")
        if wanted == "VOIDED" and existing["Status"] == "POSTED":
            return []
        if wanted == "DELETED" and existing["Status"] == "DRAFT":
            return []
        return [f"A manual journal with status {existing['Status']} cannot be changed to {wanted}"]
    messages = []
    if not str(element.get("Narration") or "").strip():
        messages.append("Narration is a required field")
    lines = element.get("JournalLines") or []
    if len(lines) < 2:
        messages.append("The journal must contain at least two individual JournalLine sub-elements")
    debits, credits = Decimal("0.00"), Decimal("0.00")
    for line in lines:
        code = line.get("AccountCode")
        account = org.account_by_code(str(code)) if code else None
        if account is None:
            messages.append(f"Account code '{code}' is not a valid code for this document.")
        elif account.get("Type") == "BANK":
            messages.append(f"Account code '{code}' is a bank account: a manual journal cannot be posted to a "
                            f"bank account.")
        if len(line.get("Tracking") or []) > 2:
            messages.append("A journal line can have at most two tracking categories")
        amount = cents(Decimal(str(line.get("LineAmount", 0))))
        if amount > 0:
            debits += amount
        else:
            credits += amount
    if lines and debits + credits != 0:
        messages.append(f"The total debits ({debits:.2f}) must equal total credits ({credits:.2f})")
    if element.get("Status", "DRAFT") not in ("DRAFT", "POSTED"):
        messages.append(f"A manual journal cannot be created with status {element['Status']}")
    date = element.get("Date")
    if isinstance(date, str) and org.locked(date):
        messages.append(org.locked(date) or "")
    return messages


def save(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    if existing is not None:
        existing.update(Status=element["Status"], UpdatedDateUTC=org.now())
        return dict(existing)
    lines = []
    for sent in element["JournalLines"]:
        line = {**sent, "LineAmount": cents(Decimal(str(sent.get("LineAmount", 0)))), "IsBlank": False}
        line["AccountID"] = org.account_by_code(str(sent["AccountCode"]))["AccountID"]  # type: ignore[index]
        line.setdefault("TaxType", "NONE")
        line.setdefault("TaxAmount", Decimal("0.00"))
        line.setdefault("Tracking", [])
        lines.append(line)
    journal = {"Narration": element["Narration"], "JournalLines": lines, "Date": xero_date(org, element.get("Date")),
               "LineAmountTypes": element.get("LineAmountTypes", "NoTax"), "Status": element.get("Status", "DRAFT"),
               "ShowOnCashBasisReports": element.get("ShowOnCashBasisReports", True), "HasAttachments": False,
               "UpdatedDateUTC": org.now()}
    return dict(org.add("ManualJournals", journal, "ManualJournalID"))


MANUAL_JOURNALS = register(Kind("ManualJournals", "ManualJournal", "ManualJournalID", check, save))

__all__ = ["MANUAL_JOURNALS", "check", "save"]
