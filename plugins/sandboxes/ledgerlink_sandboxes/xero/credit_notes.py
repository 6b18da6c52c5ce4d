"""Credit notes and their allocation to invoices
(https://developer.xero.com/documentation/api/accounting/creditnotes).

A credit note (``ACCRECCREDIT`` for a customer) is checked and computed as an invoice is
(:mod:`.invoices`: contact, currency, lines, tax, totals, lock dates); ``CreditNoteNumber`` is
``CN-0001`` … when not sent; ``RemainingCredit`` starts at its total once AUTHORISED.
``PUT /CreditNotes/<id>/Allocations`` applies part of it to an invoice of the same contact and
currency: both AUTHORISED, the amount no more than the credit remaining nor the invoice's amount
due. The invoice's ``AmountCredited`` and ``AmountDue`` move (PAID at zero due), the credit note's
``RemainingCredit`` falls (PAID at zero).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink import jsonio
from ledgerlink.errors import LedgerlinkError
from ledgerlink.testing.sandbox import Reply

from . import errors, spec
from .entities import SUBRESOURCES, Kind, register
from .invoices import DAY_RATES, cents, contact_of, line_items, totals, xero_date
from .org import Organisation, new_id

TYPES = ("ACCRECCREDIT", "ACCPAYCREDIT")


def check(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if existing is not None:
        if element.get("Status") == "VOIDED" and existing["Status"] == "AUTHORISED" and not existing["Allocations"]:
            return []
        return ["Credit note not of valid status for modification"]
    messages = []
    if element.get("Type") not in TYPES:
        messages.append("Credit note Type must be specified (ACCRECCREDIT or ACCPAYCREDIT)")
    messages += contact_of(org, element.get("Contact"))[1]
    currency = element.get("CurrencyCode") or org.base_currency
    if currency not in org.currencies:
        messages.append(f"Organisation is not subscribed to currency {currency}")
    if element.get("Status", "DRAFT") not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
        messages.append(f"Credit note status {element['Status']} is not valid when creating a credit note")
    date = element.get("Date")
    if isinstance(date, str) and org.locked(date):
        messages.append(org.locked(date) or "")
    return messages + line_items(org, element)[1]


def save(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    if existing is not None:
        existing.update(Status="VOIDED", RemainingCredit=Decimal("0.00"), UpdatedDateUTC=org.now())
        return dict(existing)
    contact, _ = contact_of(org, element["Contact"])
    if contact is None:
        contact = org.add("Contacts", {"Name": element["Contact"]["Name"].strip(), "ContactStatus": "ACTIVE",
                                       "UpdatedDateUTC": org.now()}, "ContactID")
    lines, _ = line_items(org, element)
    kind = element.get("LineAmountTypes") or "Exclusive"
    currency = element.get("CurrencyCode") or org.base_currency
    rate = Decimal("1") if currency == org.base_currency else \
        Decimal(str(element.get("CurrencyRate") or DAY_RATES[currency]))
    sums = totals(org, lines, kind)
    status = element.get("Status", "DRAFT")
    number = element.get("CreditNoteNumber") or f"CN-{len(org.all('CreditNotes')) + 1:04d}"
    note = {"Type": element["Type"], "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
            "Date": xero_date(org, element.get("Date")), "Status": status, "LineAmountTypes": kind,
            "LineItems": lines, **sums, "CurrencyCode": currency, "CurrencyRate": rate,
            "CreditNoteNumber": number, "RemainingCredit": sums["Total"] if status == "AUTHORISED" else Decimal("0.00"),
            "Allocations": [], "Payments": [], "HasAttachments": False, "UpdatedDateUTC": org.now()}
    if element.get("Reference"):
        note["Reference"] = element["Reference"]
    return dict(org.add("CreditNotes", note, "CreditNoteID"))


def _allocation_problems(org: Organisation, note: dict[str, Any], sent: dict[str, Any]) -> list[str]:
    invoice = org.get("Invoices", str((sent.get("Invoice") or {}).get("InvoiceID") or ""))
    if invoice is None:
        return ["Invoice could not be found"]
    amount = cents(Decimal(str(sent.get("Amount", 0))))
    messages = []
    if note["Status"] != "AUTHORISED" or invoice["Status"] != "AUTHORISED":
        messages.append("Only AUTHORISED credit notes can be allocated to AUTHORISED invoices")
    if invoice["CurrencyCode"] != note["CurrencyCode"]:
        messages.append("The currency of the invoice must match the currency of the credit note")
    if invoice["Contact"]["ContactID"] != note["Contact"]["ContactID"]:
        messages.append("The invoice and the credit note must be for the same contact")
    if amount <= 0 or amount > note["RemainingCredit"] or amount > invoice["AmountDue"]:
        messages.append("The amount allocated must be more than zero and no more than the credit remaining "
                        "and the amount due on the invoice")
    return messages


def allocations(org: Organisation, method: str, note_id: str, args: dict[str, str], body: bytes) -> Reply:
    """``PUT /CreditNotes/<id>/Allocations``."""
    note = org.get("CreditNotes", note_id)
    if note is None or method != "PUT":
        return errors.not_found()
    try:
        data = jsonio.loads(body)
    except (ValueError, LedgerlinkError):
        return errors.bad_request("The request body is not valid JSON")
    sent = data.get("Allocations") if isinstance(data, dict) and "Allocations" in data else [data]
    if not isinstance(sent, list) or not sent or not all(isinstance(a, dict) for a in sent):
        return errors.bad_request("No Allocations were found in the request")
    with org.lock:
        checked = [(a, spec.problems("Allocation", a) or _allocation_problems(org, note, a)) for a in sent]
        if any(messages for _, messages in checked):
            reply = errors.validation([errors.with_errors({k: v for k, v in a.items() if k in ("Amount", "Date")},
                                                          messages) for a, messages in checked])
            reply.headers["X-Sandbox-Element"] = "Allocation"
            return reply
        answered = []
        for allocation, _ in checked:
            invoice = org.get("Invoices", allocation["Invoice"]["InvoiceID"])
            amount = cents(Decimal(str(allocation["Amount"])))
            date = xero_date(org, allocation.get("Date"))
            invoice["AmountCredited"] += amount  # type: ignore[index]
            invoice["AmountDue"] -= amount  # type: ignore[index]
            if invoice["AmountDue"] == 0:  # type: ignore[index]
                invoice.update(Status="PAID", FullyPaidOnDate=date)  # type: ignore[union-attr]
            note["RemainingCredit"] -= amount
            if note["RemainingCredit"] == 0:
                note.update(Status="PAID", FullyPaidOnDate=date)
            made = {"AllocationID": new_id(), "Amount": amount, "Date": date, "IsDeleted": False,
                    "Invoice": {"InvoiceID": invoice["InvoiceID"],  # type: ignore[index]
                                "InvoiceNumber": invoice.get("InvoiceNumber", "")},  # type: ignore[union-attr]
                    "CreditNote": {"CreditNoteID": note["CreditNoteID"], "CreditNoteNumber": note["CreditNoteNumber"]}}
            note["Allocations"].append({k: v for k, v in made.items() if k != "CreditNote"})
            answered.append(made)
            org.changed("Invoices", invoice["InvoiceID"], False)  # type: ignore[index]
            org.changed("CreditNotes", note["CreditNoteID"], False)
    return Reply.json(200, {"Allocations": answered})


CREDIT_NOTES = register(Kind("CreditNotes", "CreditNote", "CreditNoteID", check, save))
SUBRESOURCES[("creditnotes", "allocations")] = allocations

__all__ = ["CREDIT_NOTES", "TYPES", "allocations", "check", "save"]
