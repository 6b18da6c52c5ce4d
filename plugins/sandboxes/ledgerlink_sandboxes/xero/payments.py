"""Payments against an invoice into a bank account
(https://developer.xero.com/documentation/api/accounting/payments).

``PUT /Payments`` with ``Invoice`` (``InvoiceID`` or ``InvoiceNumber``), ``Account``
(``AccountID`` or ``Code``), ``Date``, ``Amount`` (in the invoice's currency) and, for a foreign
invoice, ``CurrencyRate``. Xero refuses a payment on an invoice that is not AUTHORISED, one
above the amount due, or into an account that is neither a bank account nor enabled for
payments. A payment moves the invoice's ``AmountPaid`` and ``AmountDue``; at zero due the
invoice is PAID and gains ``FullyPaidOnDate``. ``POST /Payments/<id>`` with ``Status: DELETED``
deletes a payment, giving the invoice its amount back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .entities import Kind, register
from .invoices import DAY_RATES, cents, xero_date
from .org import Organisation


def _invoice(org: Organisation, sent: Any) -> dict[str, Any] | None:
    if not isinstance(sent, dict):
        return None
    if sent.get("InvoiceID"):
        return org.get("Invoices", str(sent["InvoiceID"]))
    if sent.get("InvoiceNumber"):
        return next((i for i in org.all("Invoices") if i.get("InvoiceNumber") == sent["InvoiceNumber"]), None)
    return None


def _account(org: Organisation, sent: Any) -> dict[str, Any] | None:
    if not isinstance(sent, dict):
        return None
    if sent.get("AccountID"):
        return org.get("Accounts", str(sent["AccountID"]))
    if sent.get("Code"):
        return org.account_by_code(str(sent["Code"]))
    return None


def check(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if existing is not None:
        if element.get("Status") != "DELETED":
            return ["A payment can only be deleted (Status DELETED)"]
        return [] if existing["Status"] == "AUTHORISED" else ["Payment has already been deleted"]
    invoice = _invoice(org, element.get("Invoice"))
    messages = []
    if invoice is None:
        messages.append("Invoice could not be found")
    elif invoice["Status"] != "AUTHORISED":
        messages.append("Invoice not of valid status for modification")
    account = _account(org, element.get("Account"))
    if account is None:
        messages.append("Account could not be found")
    elif account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
        messages.append("Account type is invalid for making a payment to/from")
    amount = element.get("Amount")
    if amount is None or Decimal(str(amount)) <= 0:
        messages.append("Payment amount must be greater than zero")
    elif invoice is not None and cents(Decimal(str(amount))) > invoice["AmountDue"]:
        messages.append("Payment amount exceeds the amount outstanding on this document")
    date = element.get("Date")
    if isinstance(date, str) and org.locked(date):
        messages.append(org.locked(date) or "")
    return messages


def _apply(invoice: dict[str, Any], amount: Decimal, date: str | None) -> None:
    invoice["AmountPaid"] = invoice["AmountPaid"] + amount
    invoice["AmountDue"] = invoice["Total"] - invoice["AmountPaid"] - invoice["AmountCredited"]
    invoice["Status"] = "PAID" if invoice["AmountDue"] == 0 else "AUTHORISED"
    if invoice["Status"] == "PAID" and date:
        invoice["FullyPaidOnDate"] = date
    else:
        invoice.pop("FullyPaidOnDate", None)


def save(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    if existing is not None:
        invoice = org.get("Invoices", existing["Invoice"]["InvoiceID"])
        existing.update(Status="DELETED", UpdatedDateUTC=org.now())
        if invoice is not None:
            _apply(invoice, -existing["Amount"], None)
            invoice["Payments"] = [p for p in invoice["Payments"] if p["PaymentID"] != existing["PaymentID"]]
            org.changed("Invoices", invoice["InvoiceID"], False)
        return dict(existing)
    invoice = _invoice(org, element["Invoice"])
    account = _account(org, element["Account"])
    if invoice is None or account is None:  # refused by check() first
        raise LookupError("a payment needs its invoice and account")
    amount = cents(Decimal(str(element["Amount"])))
    currency = invoice["CurrencyCode"]
    rate = Decimal("1") if currency == org.base_currency else \
        Decimal(str(element.get("CurrencyRate") or invoice.get("CurrencyRate") or DAY_RATES[currency]))
    date = xero_date(org, element.get("Date"))
    payment = {
        "Date": date, "Amount": amount, "CurrencyRate": rate, "PaymentType": "ACCRECPAYMENT"
        if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT", "Status": "AUTHORISED",
        "Account": {"AccountID": account["AccountID"], "Code": account["Code"]},
        "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice.get("InvoiceNumber", ""),
                    "Type": invoice["Type"], "CurrencyCode": currency,
                    "Contact": dict(invoice["Contact"])},
        "HasAccount": True, "HasValidationErrors": False, "IsReconciled": False, "UpdatedDateUTC": org.now(),
    }
    if element.get("Reference"):
        payment["Reference"] = element["Reference"]
    saved = org.add("Payments", payment, "PaymentID")
    _apply(invoice, amount, date)
    invoice["Payments"] = [*invoice["Payments"], {"PaymentID": saved["PaymentID"], "Date": date, "Amount": amount,
                                                  "CurrencyRate": rate}]
    invoice["UpdatedDateUTC"] = org.now()
    org.changed("Invoices", invoice["InvoiceID"], False)  # Xero has no payment event: the invoice changed
    return dict(saved)


PAYMENTS = register(Kind("Payments", "Payment", "PaymentID", check, save))

__all__ = ["PAYMENTS", "check", "save"]
