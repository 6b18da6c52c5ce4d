"""The business's general ledger: account balances moved by every posted document.

Balances are worked out from the documents as they stand (so an update, a deletion or an
undeletion moves them by itself), double entry, debit-positive, per account and currency
(the sandbox converts nothing):

- an invoice, once it is no longer a draft: Accounts Receivable debited with its ``amount``,
  Sales credited with its lines net of the discount, Sales Tax with the lines' taxes;
- a payment: Cash debited with its amount, Accounts Receivable credited with it;
- a credit note: Sales debited with its lines, Sales Tax with their taxes, Accounts Receivable
  credited with its amount (FreshBooks keeps it as the client's credit, to apply to invoices;
  the sandbox books it against what the client owes);
- an expense: its category (``Bank Fees`` …) debited with its amount, Cash credited;
- an other income: Cash debited with its amount, Other Income credited with it less its taxes,
  Sales Tax with the taxes.

A deleted document (``vis_state`` 1) posts nothing. ``GET /__sandbox/balances/<account_id>``
serves :func:`balances`; the profit and loss report (:mod:`.reports`) reads :func:`postings`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .businesses import Business
from .invoices import totals

RECEIVABLE, SALES, SALES_TAX, CASH, OTHER_INCOME = (
    "Accounts Receivable", "Sales", "Sales Tax", "Cash", "Other Income")


@dataclass(frozen=True)
class Posting:
    """One side of an entry: the account, debit-positive amount, currency, date and source."""

    account: str
    amount: Decimal
    currency: str
    date: str
    source: str  # "invoice 1001"


def _live(document: dict[str, Any]) -> bool:
    return document.get("vis_state", 0) != 1


def postings(business: Business) -> Iterator[Posting]:
    """Every posting of the business's documents (see the module docstring)."""
    with business.lock:
        invoices = [i for i in business.all("invoices") if _live(i) and i["status"] != 1]
        payments = [p for p in business.all("payments") if _live(p)]
        notes = [n for n in business.all("credit_notes") if _live(n)]
        expenses = [e for e in business.all("expenses") if _live(e)]
        incomes = [o for o in business.all("other_incomes") if _live(o)]
        categories = {c["id"]: c["category"] for c in business.all("categories")}
    for invoice in invoices:
        net, tax, discount = totals(invoice)
        code, day, source = invoice["currency_code"], invoice["create_date"], f"invoice {invoice['id']}"
        yield Posting(RECEIVABLE, Decimal(invoice["amount"]["amount"]), code, day, source)
        yield Posting(SALES, -(net + discount), code, day, source)
        yield Posting(SALES_TAX, -tax, code, day, source)
    for payment in payments:
        amount, code = Decimal(payment["amount"]["amount"]), payment["amount"]["code"]
        yield Posting(CASH, amount, code, payment["date"], f"payment {payment['id']}")
        yield Posting(RECEIVABLE, -amount, code, payment["date"], f"payment {payment['id']}")
    for note in notes:
        net, tax, _discount = totals(note)
        code, day, source = note["currency_code"], note["create_date"], f"credit_note {note['id']}"
        yield Posting(SALES, net, code, day, source)
        yield Posting(SALES_TAX, tax, code, day, source)
        yield Posting(RECEIVABLE, -Decimal(note["amount"]["amount"]), code, day, source)
    for expense in expenses:
        amount, code = Decimal(expense["amount"]["amount"]), expense["amount"]["code"]
        account = categories.get(expense["categoryid"], "Expenses")
        yield Posting(account, amount, code, expense["date"], f"expense {expense['id']}")
        yield Posting(CASH, -amount, code, expense["date"], f"expense {expense['id']}")
    for income in incomes:
        amount, code = Decimal(income["amount"]["amount"]), income["amount"]["code"]
        taxes = sum((Decimal(t["amount"]) for t in income.get("taxes") or []), Decimal(0))
        source = f"other_income {income['id']}"
        yield Posting(CASH, amount, code, income["date"], source)
        yield Posting(OTHER_INCOME, -(amount - taxes), code, income["date"], source)
        yield Posting(SALES_TAX, -taxes, code, income["date"], source)


def balances(business: Business) -> dict[str, dict[str, Decimal]]:
    """Account → currency → balance, debit-positive, for every account a document moved."""
    found: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for posting in postings(business):
        found[posting.account][posting.currency] += posting.amount
    return {account: dict(by_currency) for account, by_currency in sorted(found.items())}


__all__ = ["CASH", "OTHER_INCOME", "Posting", "RECEIVABLE", "SALES", "SALES_TAX", "balances", "postings"]
