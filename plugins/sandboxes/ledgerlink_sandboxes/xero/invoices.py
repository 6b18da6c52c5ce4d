"""Invoices: create, update while unpaid, read, find, void
(https://developer.xero.com/documentation/api/accounting/invoices).

What Xero checks and computes, as the sandbox does it:

- ``Type`` ACCREC or ACCPAY; ``Contact`` by ``ContactID`` (must exist) or by ``Name`` (found, or
  created as Xero does: prefer ContactID, a name alone can make a second contact);
- ``CurrencyCode`` (the base currency when absent) must be enabled in the organisation
  ("Organisation is not subscribed to currency …"); ``CurrencyRate`` is kept as sent (its direction:
  :func:`.ledger.to_base`), 1 for the base currency; a foreign
  invoice without a rate gets the sandbox's fixed day rate (:data:`DAY_RATES`), as Xero would
  take XE.com's;
- a line's ``LineAmount`` is ``Quantity × UnitAmount × (100 − DiscountRate) / 100`` (or minus
  ``DiscountAmount``), rounded half up to 2 decimals, when ``UnitAmount`` is sent (``Quantity``
  1 when absent); otherwise the ``LineAmount`` sent. ``UnitAmount`` is first rounded half up to
  2 decimals, or 4 with the query parameter ``unitdp=4`` (Xero's ``unitdp``); an
  ``AccountCode`` or ``ItemCode`` must exist, an item fills the account, description, price and tax
  type it holds;
- tax per line from its ``TaxType`` (else its account's): ``Exclusive`` adds it, ``Inclusive``
  takes it out of the line, ``NoTax`` has none, each rounded to 2 decimals; ``SubTotal``,
  ``TotalTax``, ``Total``; ``AmountDue = Total − AmountPaid − AmountCredited``;
- ``Status`` DRAFT (default), SUBMITTED or AUTHORISED on create; a date on or before a lock date
  is refused; ``InvoiceNumber`` of an ACCREC is unique (``INV-0001`` … when not sent);
- dates are answered as Xero answers them, ``/Date(ms+0000)/``;
- ``POST`` with ``InvoiceID`` and ``Status: VOIDED`` voids an AUTHORISED invoice with no payment.
"""

from __future__ import annotations

import calendar
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .entities import Kind, register
from .org import Organisation, ms_date, new_id

CENT = Decimal("0.01")
#: the sandbox's day rates against USD, used when a foreign document has none (read as
#: :func:`.ledger.to_base` reads a rate, so they are meaningful for a USD organisation only)
DAY_RATES = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "JPY": Decimal("150"), "KWD": Decimal("0.307"),
             "GBP": Decimal("0.79"), "AUD": Decimal("1.52"), "NZD": Decimal("1.67"), "CAD": Decimal("1.37")}
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def contact_of(org: Organisation, sent: Any) -> tuple[dict[str, Any] | None, list[str]]:
    if not isinstance(sent, dict):
        return None, ["A Contact must be specified with this type of transaction"]
    if sent.get("ContactID"):
        found = org.get("Contacts", str(sent["ContactID"]))
        return found, [] if found else [f"The contact with ContactID {sent['ContactID']} could not be found"]
    name = sent.get("Name")
    if isinstance(name, str) and name.strip():
        found = next((c for c in org.all("Contacts") if c.get("Name", "").lower() == name.strip().lower()), None)
        return found, []
    return None, ["A Contact must be specified with this type of transaction"]


def line_items(org: Organisation, element: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    lines, messages = [], []
    for sent in element.get("LineItems") or []:
        line = dict(sent)
        item = None
        if line.get("ItemCode"):
            item = next((i for i in org.all("Items") if i.get("Code") == line["ItemCode"]), None)
            if item is None:
                messages.append(f"Item code '{line['ItemCode']}' is not valid")
                continue
            sales = item.get("SalesDetails") or {}
            line.setdefault("AccountCode", sales.get("AccountCode"))
            line.setdefault("Description", item.get("Description"))
            if sales.get("TaxType"):
                line.setdefault("TaxType", sales["TaxType"])
            if "UnitAmount" not in line and "LineAmount" not in line and "UnitPrice" in sales:
                line["UnitAmount"] = sales["UnitPrice"]
        account = org.account_by_code(str(line.get("AccountCode"))) if line.get("AccountCode") else None
        if line.get("AccountCode") and account is None:
            messages.append(f"Account code '{line['AccountCode']}' is not a valid code for this document.")
            continue
        tax_type = line.get("TaxType") or (account or {}).get("TaxType") or "NONE"
        if tax_type not in org.entities["TaxRates"]:
            messages.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
            continue
        line["TaxType"] = tax_type
        if "UnitAmount" in line:
            quantity = Decimal(str(line.get("Quantity", 1)))
            line["Quantity"] = quantity
            unit = Decimal(str(line["UnitAmount"])).quantize(Decimal(1).scaleb(-org.unit_places), rounding=ROUND_HALF_UP)
            line["UnitAmount"] = unit
            amount = quantity * unit
            if line.get("DiscountRate") is not None:
                amount = amount * (100 - Decimal(str(line["DiscountRate"]))) / 100
            elif line.get("DiscountAmount") is not None:
                amount -= Decimal(str(line["DiscountAmount"]))
            line["LineAmount"] = cents(amount)
        elif "LineAmount" in line:
            line["LineAmount"] = cents(Decimal(str(line["LineAmount"])))
        else:
            line["LineAmount"] = Decimal("0.00")
        if not line.get("Description") and not item:
            messages.append("Description is required for a line item")
            continue
        line["LineItemID"] = line.get("LineItemID") or new_id()
        lines.append(line)
    return lines, messages


def totals(org: Organisation, lines: list[dict[str, Any]], kind: str) -> dict[str, Decimal]:
    """``SubTotal``, ``TotalTax`` and ``Total`` of ``lines`` (and each line's ``TaxAmount``)."""
    sub, tax = Decimal("0.00"), Decimal("0.00")
    for line in lines:
        rate = Decimal(str(org.entities["TaxRates"][line["TaxType"]]["EffectiveRate"]))
        amount = line["LineAmount"]
        if kind == "Exclusive":
            line["TaxAmount"] = cents(amount * rate / 100)
            sub += amount
        elif kind == "Inclusive":
            line["TaxAmount"] = cents(amount * rate / (100 + rate))
            sub += amount - line["TaxAmount"]
        else:
            line["TaxAmount"] = Decimal("0.00")
            sub += amount
        tax += line["TaxAmount"]
    return {"SubTotal": sub, "TotalTax": tax, "Total": sub + tax}


def check(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    if existing is not None:
        if element.get("Status") == "VOIDED":
            if existing["Status"] != "AUTHORISED" or existing["AmountPaid"] != 0:
                return ["Invoice not of valid status for modification"]
            return []
        if existing["Status"] not in ("DRAFT", "SUBMITTED", "AUTHORISED") or existing["AmountPaid"] != 0:
            return ["Invoice not of valid status for modification"]
        element = {**{k: v for k, v in existing.items() if k in ("Type", "Contact", "LineItems")}, **element}
    messages = []
    if element.get("Type") not in ("ACCREC", "ACCPAY"):
        messages.append("Invoice Type must be specified (ACCREC or ACCPAY)")
    messages += contact_of(org, element.get("Contact"))[1]
    currency = element.get("CurrencyCode") or org.base_currency
    if currency not in org.currencies:
        messages.append(f"Organisation is not subscribed to currency {currency}")
    status = element.get("Status", "DRAFT")
    if existing is None and status not in CREATE_STATUSES:
        messages.append(f"Invoice status {status} is not valid when creating an invoice")
    date = element.get("Date")
    if isinstance(date, str) and org.locked(date):
        messages.append(org.locked(date) or "")
    if element.get("Type") == "ACCREC" and element.get("InvoiceNumber") and any(
            i.get("InvoiceNumber") == element["InvoiceNumber"] and i is not existing
            and i.get("Type") == "ACCREC" for i in org.all("Invoices")):
        messages.append("Invoice # must be unique.")
    lines, line_messages = line_items(org, element)
    messages += line_messages
    if status == "AUTHORISED" and not lines:
        messages.append("An invoice must have at least one line item to be approved")
    return messages


def xero_date(org: Organisation, sent: Any) -> str:
    """``sent`` (``YYYY-MM-DD…``, ``/Date(…)/`` or None for today) as Xero answers a date."""
    if isinstance(sent, str) and sent.startswith("/Date("):
        return sent
    if isinstance(sent, str) and sent:
        return ms_date(calendar.timegm(time.strptime(sent[:10], "%Y-%m-%d")))
    return ms_date(calendar.timegm(time.strptime(time.strftime("%Y-%m-%d", time.gmtime(org.clock.wall())),
                                                 "%Y-%m-%d")))


def save(org: Organisation, element: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    if existing is not None and element.get("Status") == "VOIDED":
        existing.update(Status="VOIDED", AmountDue=Decimal("0.00"), UpdatedDateUTC=org.now())
        return dict(existing)
    merged = {**(existing or {}), **{k: v for k, v in element.items() if k not in ("StatusAttributeString",)}}
    contact, _ = contact_of(org, merged.get("Contact"))
    if contact is None:
        contact = org.add("Contacts", {"Name": merged["Contact"]["Name"].strip(), "ContactStatus": "ACTIVE",
                                       "IsSupplier": False, "IsCustomer": False, "UpdatedDateUTC": org.now()},
                          "ContactID")
    contact["IsCustomer" if merged["Type"] == "ACCREC" else "IsSupplier"] = True
    lines, _ = line_items(org, merged)
    kind = merged.get("LineAmountTypes") or "Exclusive"
    currency = merged.get("CurrencyCode") or org.base_currency
    rate = Decimal("1") if currency == org.base_currency else \
        Decimal(str(merged.get("CurrencyRate") or DAY_RATES[currency]))
    sums = totals(org, lines, kind)
    paid = Decimal(str(merged.get("AmountPaid", "0.00")))
    credited = Decimal(str(merged.get("AmountCredited", "0.00")))
    number = merged.get("InvoiceNumber")
    if not number and merged["Type"] == "ACCREC":
        number = f"INV-{sum(1 for i in org.all('Invoices') if i['Type'] == 'ACCREC') + 1:04d}"
    invoice = {
        "Type": merged["Type"], "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
        "Date": xero_date(org, merged.get("Date")), "Status": merged.get("Status", "DRAFT"),
        "LineAmountTypes": kind, "LineItems": lines, **sums, "CurrencyCode": currency, "CurrencyRate": rate,
        "AmountPaid": paid, "AmountCredited": credited, "AmountDue": sums["Total"] - paid - credited,
        "Payments": merged.get("Payments", []), "HasAttachments": False, "IsDiscounted": False,
        "UpdatedDateUTC": org.now(),
    }
    if merged.get("DueDate"):
        invoice["DueDate"] = xero_date(org, merged["DueDate"])
    for optional in ("Reference", "InvoiceID", "BrandingThemeID", "Url"):
        if merged.get(optional):
            invoice[optional] = merged[optional]
    if number:
        invoice["InvoiceNumber"] = number
    if existing is not None:
        existing.clear()
        existing.update(invoice)
        return dict(existing)
    return dict(org.add("Invoices", invoice, "InvoiceID"))


INVOICES = register(Kind("Invoices", "Invoice", "InvoiceID", check, save))

__all__ = ["CENT", "DAY_RATES", "INVOICES", "cents", "check", "contact_of", "line_items", "save", "totals",
           "xero_date"]
