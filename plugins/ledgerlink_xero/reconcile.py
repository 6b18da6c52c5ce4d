"""The Xero side of ``ledgerlink reconcile``: a period's documents as neutral records, and the
clearing account's balance at a date.

Read-only and sans-I/O, on :mod:`.api` (the host sends each request governed and
authenticated). A period is listed one page at a time, collection after collection —
``GET /Invoices``, ``/CreditNotes``, ``/Payments``, ``/BankTransactions``,
``/BankTransfers``, ``/ManualJournals`` — each filtered by its ``Date`` in Xero's ``where``
language (``Date>=DateTime(2026,11,01) AND Date<=DateTime(2026,11,30)``,
https://developer.xero.com/documentation/api/accounting/requests-and-responses#retrieving-a-filtered-set-of-records)
and read 100 a page (``page``; Xero does not page bank transfers: one answer holds them all).
Only what posts is listed: a deleted or voided document, a draft, is not in the books.

Each document is a :class:`~ledgerlink.contract.reconcile.Record` of the amount Xero shows
(an invoice's or bank transaction's ``Total``, a payment's or transfer's ``Amount``, a
journal's debits) in its currency (a journal's is the organisation's base currency), with the
source id the booking kept in its ``Reference`` (a journal: the ``po_…`` its ``Narration``
names). Its kind is what it books: an invoice, a credit note, a payment; money received is a
payment, money spent to the contact "Stripe" a fee (its fees, a dispute) and to anyone else
a refund; a transfer or a bank transaction whose reference is a payout (``po_…``) a
payout; a journal a journal.

The balance is ``GET /Reports/TrialBalance?date=`` — the row of the connection's
``clearing_account`` (its code), debit positive, in the base currency.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.contract.money import exponent
from ledgerlink.contract.reconcile import CLEARING_SETTING, Listing, Reconcile, Record
from ledgerlink.errors import ConfigError, EventError, VendorError

from . import api

#: the collections listed, in order: (collection, element, id field, paged)
COLLECTIONS = (("Invoices", "Invoice", "InvoiceID", True), ("CreditNotes", "CreditNote", "CreditNoteID", True),
               ("Payments", "Payment", "PaymentID", True),
               ("BankTransactions", "BankTransaction", "BankTransactionID", True),
               ("BankTransfers", "BankTransfer", "BankTransferID", False),
               ("ManualJournals", "ManualJournal", "ManualJournalID", True))
#: the statuses of a document that posts, by collection (BankTransfers have no status)
POSTED = {"Invoices": ("AUTHORISED", "PAID"), "CreditNotes": ("AUTHORISED", "PAID"), "Payments": ("AUTHORISED",),
          "BankTransactions": ("AUTHORISED",), "ManualJournals": ("POSTED",)}
#: each create action → the entity type (:attr:`Record.entity`) of the id its output names
ENTITIES = {"xero.create_invoice": "Invoice", "xero.create_credit_note": "CreditNote",
            "xero.create_payment": "Payment", "xero.create_bank_transaction": "BankTransaction",
            "xero.create_bank_transfer": "BankTransfer", "xero.create_manual_journal": "ManualJournal"}
PAGE_SIZE = 100
#: the connection setting naming the clearing account by its code
#: the contact money spent to is a fee (its fees, a dispute) rather than a refund to a customer
PROCESSOR = "stripe"
_PAYOUT = re.compile(r"\b(po_[A-Za-z0-9]+)")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _date_time(day: str) -> str:
    match = _DAY.match(day)
    if match is None:
        raise ConfigError(f"a reconciliation's dates are YYYY-MM-DD, not {day!r}")
    return f"DateTime({match.group(1)},{match.group(2)},{match.group(3)})"


def _cursor(text: str | None) -> tuple[int, int]:
    """(collection index, page) of the next request."""
    if not text:
        return 0, 1
    try:
        stored = jsonio.loads(text)
        return int(stored["collection"]), int(stored["page"])
    except (jsonio.JSONDecodeError, UnicodeError, KeyError, TypeError, ValueError):
        raise EventError(f"the Xero reconciliation's cursor {text[:60]!r} is not its JSON") from None


def _minor(value: object, currency: str, where: str) -> int:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise VendorError(f"Xero answered {where} with the amount {value!r}", kind="retry") from None
    return int((amount * (Decimal(10) ** exponent(currency))).to_integral_value())


def _base(ctx: ActionContext) -> str:
    code = str(ctx.connection.settings.get("base_currency") or "").upper()
    if not code:
        raise ConfigError(f"connection {ctx.connection.name!r} has no base_currency: set the organisation's "
                          f"(`ledgerlink check` names it) to reconcile its journals")
    return code


def _kind(collection: str, document: Mapping[str, Any], source: str | None) -> str:
    if collection == "Invoices":
        return "invoice"
    if collection == "CreditNotes":
        return "credit_note"
    if collection == "Payments":
        return "payment"
    if collection == "ManualJournals":
        return "journal"
    if collection == "BankTransfers" or (source or "").startswith("po_"):
        return "payout"
    if document.get("Type") == "RECEIVE":
        return "payment"
    contact = document.get("Contact") if isinstance(document.get("Contact"), Mapping) else {}
    return "fee" if str(contact.get("Name") or "").strip().lower() == PROCESSOR else "refund"  # type: ignore[union-attr]


def _amount_and_currency(collection: str, document: Mapping[str, Any], ctx: ActionContext) -> tuple[Any, str]:
    if collection in ("Invoices", "CreditNotes", "BankTransactions"):
        return document.get("Total"), str(document.get("CurrencyCode") or _base(ctx))
    if collection == "Payments":
        invoice = document.get("Invoice") if isinstance(document.get("Invoice"), Mapping) else {}
        return document.get("Amount"), str(invoice.get("CurrencyCode") or _base(ctx))  # type: ignore[union-attr]
    if collection == "BankTransfers":
        account = document.get("FromBankAccount") if isinstance(document.get("FromBankAccount"), Mapping) else {}
        return document.get("Amount"), str(account.get("CurrencyCode") or _base(ctx))  # type: ignore[union-attr]
    debits = sum((Decimal(str(line.get("LineAmount", 0))) for line in document.get("JournalLines") or []
                  if Decimal(str(line.get("LineAmount", 0))) > 0), Decimal(0))
    return debits, _base(ctx)


def record(collection: str, id_field: str, document: Mapping[str, Any], ctx: ActionContext) -> Record | None:
    """The record of one listed document; None when it does not post (deleted, voided, draft)."""
    if collection in POSTED and document.get("Status") not in POSTED[collection]:
        return None
    if document.get("Status") in ("DELETED", "VOIDED"):  # a transfer deleted
        return None
    if collection in ("Invoices", "CreditNotes") and document.get("Type") not in ("ACCREC", "ACCRECCREDIT"):
        return None  # bills are not what a source's sales book
    day = api.xero_date(document.get("Date"))
    if day is None:
        raise VendorError(f"Xero listed {collection} {document.get(id_field)} without a date", kind="retry")
    if collection == "ManualJournals":
        found = _PAYOUT.search(str(document.get("Narration") or ""))
        source, label = (found.group(1) if found else None), str(document.get("Narration") or "")
    else:
        source = str(document.get("Reference") or "").strip() or None
        contact = document.get("Contact") if isinstance(document.get("Contact"), Mapping) else {}
        label = " ".join(part for part in (str(document.get("Type") or ""), str(contact.get("Name") or ""),  # type: ignore[union-attr]
                                           source or "") if part)
    value, currency = _amount_and_currency(collection, document, ctx)
    currency = currency.upper()
    return Record(kind=_kind(collection, document, source), id=str(document[id_field]),
                  amount=_minor(value, currency, f"{collection} {document.get(id_field)}"), currency=currency,
                  date=day.isoformat(), source_id=source, entity=collection[:-1] if collection != "BankTransactions"
                  else "BankTransaction", label=label[:120])


def records(since: str, until: str, cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, Listing]:
    """One page of the documents dated from ``since`` to ``until`` (both included)."""
    index, page = _cursor(cursor)
    if index >= len(COLLECTIONS):
        return Listing([], None)
    collection, entity, id_field, paged = COLLECTIONS[index]
    where = f"Date>={_date_time(since)} AND Date<={_date_time(until)}"
    params = {"page": str(page)} if paged else {}
    response = yield api.read(ctx, collection, where=where, **params)
    listed = api.elements(response, collection, entity)
    found = [r for r in (record(collection, id_field, d, ctx) for d in listed if d.get(id_field)) if r is not None]
    more = paged and len(listed) >= PAGE_SIZE
    following = (index, page + 1) if more else (index + 1, 1)
    last = following[0] >= len(COLLECTIONS)
    return Listing(found, None if last else jsonio.dumps({"collection": following[0], "page": following[1]}))


def _code(name: str) -> str | None:
    found = re.search(r"\(([^()]*)\)\s*$", name)
    return found.group(1) if found else None


def balance(at: str, ctx: ActionContext) -> Generator[Request, Response, Mapping[str, int]]:
    """The clearing account's balance at the end of ``at``, debit positive, in the base currency."""
    code = str(ctx.connection.settings.get(CLEARING_SETTING) or "")
    if not code:
        raise ConfigError(f"connection {ctx.connection.name!r} has no {CLEARING_SETTING}: name the code of the "
                          f"account Stripe's money is booked into (e.g. clearing_account = \"099\")")
    _date_time(at)
    response = yield Request("GET", api.url(ctx, "Reports") + "/TrialBalance", params={"date": at},
                             headers={"Accept": "application/json"})
    [report] = api.elements(response, "Reports", "trial balance") or [{}]
    base = _base(ctx)
    for section in report.get("Rows") or []:
        for row in section.get("Rows") or [] if isinstance(section, Mapping) else []:
            cells = [str(cell.get("Value") or "") for cell in row.get("Cells") or []]
            if row.get("RowType") == "Row" and cells and _code(cells[0]) == code:
                debit = Decimal(cells[1] or 0) - Decimal(cells[2] or 0)
                return {base: _minor(debit, base, "the trial balance")}
    return {base: 0}  # an account without a balance has no row


RECONCILE = Reconcile(records=records, entities=ENTITIES, balance=balance)

__all__ = ["CLEARING_SETTING", "COLLECTIONS", "ENTITIES", "RECONCILE", "balance", "record", "records"]
