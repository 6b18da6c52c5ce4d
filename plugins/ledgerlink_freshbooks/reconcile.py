"""The FreshBooks side of ``ledgerlink reconcile``: a period's documents as neutral records.

Read-only and sans-I/O, on :mod:`.api`. A period is listed one page at a time, list after
list — invoices, payments, credit notes, expenses, other incomes (``GET
…/invoices/invoices`` …), 100 a page — each narrowed by ``search[updated_min]`` to the day
before the period starts (FreshBooks' between-search on ``updated``, day granularity:
https://www.freshbooks.com/api/parameters; a document dated in the period was written on or
after its date, so it is among them), then kept when its own date (an invoice's or credit
note's ``create_date``, the others' ``date``) lies in the period. Deleted documents
(``vis_state`` 1) are not listed: they are out of the books; a draft invoice posts nothing
and is left out too.

Each document is a :class:`~ledgerlink.contract.reconcile.Record` of FreshBooks' amount in
its currency, with the source id its create kept (an invoice's ``po_number``, the others'
``ledgerlink source <id>`` line in ``note`` or ``notes``). Its kind is what it books: an
invoice, a payment, a credit note; an expense a fee (a payout's fees, a dispute); an other
income a payment, or a payout when it is a payout's (its source a ``po_…``).

FreshBooks keeps no account a booking posts to (no clearing account, no journals), so there
is no balance to compare: ``balance`` is None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Request, Response
from ledgerlink.contract.money import exponent
from ledgerlink.contract.reconcile import Listing, Reconcile, Record
from ledgerlink.errors import ConfigError, EventError

from . import api

#: the lists read, in order: (path, the list's key, the entity, the field holding its date)
LISTS = (("invoices/invoices", "invoices", "invoice", "create_date"),
         ("payments/payments", "payments", "payment", "date"),
         ("credit_notes/credit_notes", "credit_notes", "credit_note", "create_date"),
         ("expenses/expenses", "expenses", "expense", "date"),
         ("other_incomes/other_incomes", "other_income", "other_income", "date"))
#: each create action → the entity type (:attr:`Record.entity`) of the id its output names
ENTITIES = {"freshbooks.create_invoice": "invoice", "freshbooks.create_payment": "payment",
            "freshbooks.create_credit_note": "credit_note", "freshbooks.create_expense": "expense",
            "freshbooks.create_other_income": "other_income"}
#: an invoice's ``status`` while it is a draft (it posts nothing)
DRAFT = 1


def _cursor(text: str | None) -> tuple[int, int]:
    """(list index, page) of the next request."""
    if not text:
        return 0, 1
    try:
        stored = jsonio.loads(text)
        return int(stored["list"]), int(stored["page"])
    except (jsonio.JSONDecodeError, UnicodeError, KeyError, TypeError, ValueError):
        raise EventError(f"the FreshBooks reconciliation's cursor {text[:60]!r} is not its JSON") from None


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError(f"a reconciliation's dates are YYYY-MM-DD, not {text!r}") from None


def source_of(document: Mapping[str, Any]) -> str | None:
    """The source id a create kept on ``document``: its ``ledgerlink source <id>`` line, else
    its ``po_number`` (an invoice's reference); None when it keeps none."""
    for key in ("note", "notes", "po_number"):
        for line in str(document.get(key) or "").splitlines():
            if line.startswith("ledgerlink source "):
                return line.split(" ", 2)[2].strip() or None
    return str(document.get("po_number") or "").strip() or None


def _kind(entity: str, source: str | None) -> str:
    if entity in ("invoice", "payment", "credit_note"):
        return entity
    if entity == "expense":
        return "fee"
    return "payout" if (source or "").startswith("po_") else "payment"


def record(entity: str, date_field: str, document: Mapping[str, Any], ctx: ActionContext) -> Record | None:
    """The record of one listed document; None when it posts nothing (a draft, a deleted one)."""
    if document.get("vis_state") == api.DELETED or (entity == "invoice" and document.get("status") == DRAFT):
        return None
    money = api.read_money(document.get("amount"))
    if money is None:
        return None
    amount, code = money
    currency = (code or str(document.get("currency_code") or "")).upper()
    source = source_of(document)
    minor = int((amount * (Decimal(10) ** exponent(currency))).to_integral_value())
    label = " ".join(part for part in (entity.replace("_", " "), str(document.get("invoice_number")
                                       or document.get("credit_number") or ""), source or "") if part)
    return Record(kind=_kind(entity, source), id=api.object_id(document), amount=minor, currency=currency,
                  date=str(document.get(date_field) or "")[:10], source_id=source, entity=entity, label=label)


def records(since: str, until: str, cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, Listing]:
    """One page of the documents dated from ``since`` to ``until`` (both included)."""
    first, last = _day(since), _day(until)
    index, page = _cursor(cursor)
    if index >= len(LISTS):
        return Listing([], None)
    path, plural, entity, date_field = LISTS[index]
    params = {"search[updated_min]": (first - dt.timedelta(days=1)).isoformat(), "page": str(page),
              "per_page": str(api.PER_PAGE)}
    response = yield Request("GET", api.account_url(ctx, path), params=params, headers={"Accept": "application/json"})
    listed, pages = api.listing(response, plural)
    found = []
    for document in listed:
        made = record(entity, date_field, document, ctx)
        if made is not None and first.isoformat() <= made.date <= last.isoformat():
            found.append(made)
    following = (index, page + 1) if page < pages and listed else (index + 1, 1)
    done = following[0] >= len(LISTS)
    return Listing(found, None if done else jsonio.dumps({"list": following[0], "page": following[1]}))


RECONCILE = Reconcile(records=records, entities=ENTITIES, balance=None)

__all__ = ["ENTITIES", "LISTS", "RECONCILE", "record", "records", "source_of"]
