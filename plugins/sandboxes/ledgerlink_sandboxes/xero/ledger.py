"""The organisation's general ledger: account balances moved by every posted document.

Balances are worked out from the documents as they stand (so an update, a void or a deletion
moves them back by itself), double entry, debit-positive, per account code, both in the
account's currency and in the base currency:

- an ACCREC invoice, AUTHORISED or PAID: Accounts Receivable (610) debited with its total, each
  line's account credited with the line net of tax, Sales Tax (820) with the tax; a credit note
  the other way round; DRAFT, SUBMITTED, VOIDED and DELETED documents post nothing;
- a payment: the bank account debited with its amount, Accounts Receivable credited with the
  base amount the invoice was booked at; a difference of rates goes to Realised Currency Gains
  (499; a debit is a loss), as is what rounding each line to cents leaves over;
- a POSTED manual journal: each line's account by its ``LineAmount`` (debits positive);
- a bank transaction: RECEIVE debits its bank account with the total and credits the lines and
  tax; SPEND the other way round;
- a bank transfer (between accounts of one currency): the from-account credited with
  ``Amount``, the to-account debited with it.

Rates: ``CurrencyRate`` is read as units of the document's currency per unit of the base currency
(Xero's app shows "1 USD = 0.92 EUR"), so a base amount is the foreign amount divided by the
rate, rounded half up to cents (:func:`to_base`). That direction is UNVERIFIED against a live
organisation; it is the one function to change if Xero reads it the other way.

``GET /__sandbox/balances/<tenant>`` serves :func:`balances`; Xero's own way to read them,
``GET /Reports/TrialBalance``, is :mod:`.reports`. ``until`` (YYYY-MM-DD) leaves out every
document dated after that day, as a report "as at" a date does.
"""

from __future__ import annotations

import calendar
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from .invoices import cents
from .org import MS_DATE, Organisation

RECEIVABLE, SALES_TAX, FX_GAINS = "610", "820", "499"
POSTED_SALES = ("AUTHORISED", "PAID")


def to_base(amount: Decimal, rate: Any) -> Decimal:
    """``amount`` of a document at ``CurrencyRate`` ``rate`` in the base currency (see above)."""
    return cents(Decimal(amount) / Decimal(str(rate or 1)))


class _Book:
    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.amount: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        self.base: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))

    def post(self, code: str, amount: Decimal, base: Decimal) -> None:
        self.amount[code] += amount
        self.base[code] += base

    def settle(self) -> None:
        """Post what rounding left unbalanced in the base currency to Realised Currency Gains."""
        left = sum(self.base.values(), Decimal("0.00"))
        if left:
            self.base_post(FX_GAINS, -left)

    def base_post(self, code: str, base: Decimal) -> None:
        self.post(code, base, base)  # an account in the base currency

    def lines(self, document: dict[str, Any], sign: int) -> None:
        """Credit (sign -1) or debit (+1) each line's account with its net amount, and tax."""
        rate = document.get("CurrencyRate", 1)
        for line in document.get("LineItems", []):
            net = line["LineAmount"] - (line.get("TaxAmount", 0) if document.get("LineAmountTypes") == "Inclusive" else 0)
            self.base_post(str(line.get("AccountCode")), sign * to_base(net, rate))
        if document.get("TotalTax"):
            self.base_post(SALES_TAX, sign * to_base(document["TotalTax"], rate))


def _bank_code(org: Organisation, account: dict[str, Any]) -> tuple[str, str]:
    found = org.get("Accounts", account["AccountID"]) or {}
    return str(found.get("Code")), str(found.get("CurrencyCode") or org.base_currency)


def _dated(documents: list[dict[str, Any]], until: str | None) -> list[dict[str, Any]]:
    """The documents dated on or before ``until`` (all of them without it)."""
    if until is None:
        return documents
    last = calendar.timegm(time.strptime(until, "%Y-%m-%d")) * 1000 + 86_399_999
    return [d for d in documents if int(MS_DATE.match(str(d.get("Date") or "/Date(0)/")).group(1)) <= last]  # type: ignore[union-attr]


def balances(org: Organisation, until: str | None = None) -> dict[str, dict[str, Any]]:
    """Account code → ``{"Name", "CurrencyCode", "Balance", "BaseBalance"}``, debit-positive,
    for every account a posted document moved (dated on or before ``until``, YYYY-MM-DD)."""
    book = _Book(org)
    with org.lock:
        for invoice in _dated(org.all("Invoices"), until):
            if invoice["Type"] == "ACCREC" and invoice["Status"] in POSTED_SALES:
                book.base_post(RECEIVABLE, to_base(invoice["Total"], invoice["CurrencyRate"]))
                book.lines(invoice, -1)
                book.settle()
        for note in _dated(org.all("CreditNotes"), until):
            if note["Type"] == "ACCRECCREDIT" and note["Status"] in POSTED_SALES:
                book.base_post(RECEIVABLE, -to_base(note["Total"], note["CurrencyRate"]))
                book.lines(note, +1)
                book.settle()
        for payment in _dated(org.all("Payments"), until):
            if payment["Status"] != "AUTHORISED":
                continue
            invoice = org.get("Invoices", payment["Invoice"]["InvoiceID"]) or {}
            code, currency = _bank_code(org, payment["Account"])
            paid_base = to_base(payment["Amount"], payment["CurrencyRate"])
            booked_base = to_base(payment["Amount"], invoice.get("CurrencyRate", 1))
            book.post(code, payment["Amount"] if currency != org.base_currency else paid_base, paid_base)
            book.base_post(RECEIVABLE, -booked_base)
            if paid_base != booked_base:
                book.base_post(FX_GAINS, booked_base - paid_base)
        for journal in _dated(org.all("ManualJournals"), until):
            if journal["Status"] == "POSTED":
                for line in journal["JournalLines"]:
                    book.base_post(str(line["AccountCode"]), line["LineAmount"])
        for transaction in _dated(org.all("BankTransactions"), until):
            if transaction["Status"] != "AUTHORISED":
                continue
            sign = 1 if transaction["Type"].startswith("RECEIVE") else -1
            code, currency = _bank_code(org, transaction["BankAccount"])
            base = to_base(transaction["Total"], transaction["CurrencyRate"])
            book.post(code, sign * transaction["Total"], sign * base)
            book.lines(transaction, -sign)
            book.settle()
        for transfer in _dated(org.all("BankTransfers"), until):
            if transfer.get("Status") == "DELETED":
                continue
            source, _ = _bank_code(org, transfer["FromBankAccount"])
            target, _ = _bank_code(org, transfer["ToBankAccount"])
            amount = transfer["Amount"]  # both accounts in one currency (see .banking)
            # in the base currency the amount is its value; two foreign accounts keep no rate of
            # their own here: the value moves at face value (not imitated)
            book.post(source, -amount, -amount)
            book.post(target, amount, amount)
    names = {a["Code"]: a for a in org.all("Accounts")}
    return {code: {"Name": names.get(code, {}).get("Name"),
                   "CurrencyCode": names.get(code, {}).get("CurrencyCode") or org.base_currency,
                   "Balance": book.amount[code], "BaseBalance": book.base[code]}
            for code in sorted(book.amount)}


__all__ = ["FX_GAINS", "RECEIVABLE", "SALES_TAX", "balances", "to_base"]
