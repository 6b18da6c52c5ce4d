"""The proof that each booking mode's FreshBooks books tie out to Stripe, to the cent.

The Stripe sandbox's simulated month (as in ``test_books_proof.py``: over 300 payments in USD,
EUR, JPY and KWD settled in USD, refunds, disputes won and lost, a payout a day, a negative
one and a failed one) reaches ledgerlink through signed webhooks, some delivered twice, and
is booked by one mode's FreshBooks recipes (``recipes/freshbooks/``) into the FreshBooks
sandbox (a business in USD). FreshBooks is no double-entry ledger an integration can post to,
so the books are read back as FreshBooks shows them, through its API only
(:mod:`freshbooks_books`): every invoice, payment, credit note, expense and other income, and
the profit and loss report. Then:

(a) every run succeeded, once; the profit and loss report is what the documents say (Sales =
    invoices less credit notes, Other Income, the expenses by category) and adds up;
(b) mode 1: every invoice is paid in full by one payment; each payout's fees are one expense.
    Mode 2: each payout paid is income less expenses of exactly its amount;
(c) sales, refunds, disputes lost and fees (mode 2: sales less refunds and disputes, and fees)
    equal the sums of Stripe's balance transactions of those reporting categories, and the net
    profit equals what Stripe's transactions left, to the minor unit;
(d) every event delivered again changes nothing;
(e) ``ledgerlink export`` of the month, as CSV and as a workbook (:mod:`export_reading`), has
    one row per document the recipes made, with its FreshBooks id and exactly FreshBooks'
    amount, so its totals per kind and currency are the books'.

Mode 1 runs once more with its runs worked off by a ``ledgerlink worker`` process killed with
SIGKILL a third of the way through and a second one: the same books. The month's tie-out
table is printed (``-s``). Nothing reaches beyond loopback and nothing is
timed. Selected with ``-m books``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import pytest

from books_checks import by_category, check_redelivery_changes_nothing, check_runs, minor, payouts, tie_out_table
from books_month import Month, book_the_month, killed_midway, stripe_transactions
from export_reading import booked as rows_of, read_export, totals
from freshbooks_books import FRESHBOOKS, At, ProfitAndLoss, amount, documents, profit_and_loss, source_of

pytestmark = pytest.mark.books

MODE_1 = {"stripe-invoice-paid-to-freshbooks-invoice-and-payment", "stripe-charge-succeeded-to-freshbooks-other-income",
          "stripe-charge-refunded-to-freshbooks-credit-note",
          "stripe-dispute-funds-withdrawn-to-freshbooks-chargeback-expense",
          "stripe-dispute-funds-reinstated-to-freshbooks-other-income",
          "stripe-payout-paid-to-freshbooks-fees-expense", "stripe-payout-failed-to-freshbooks-fees-expense"}
MODE_2 = {"stripe-payout-paid-to-freshbooks-income-and-fees",
          "stripe-payout-failed-to-freshbooks-fees-expense-and-income"}


class Books:
    """What one business's FreshBooks books hold, read through FreshBooks' API only: each
    kind's documents and their totals by the kind of source id they keep."""

    def __init__(self, url: str) -> None:
        at = At(url)
        self.invoices = documents(at, "invoices/invoices")
        self.payments = documents(at, "payments/payments")
        self.credit_notes = documents(at, "credit_notes/credit_notes")
        self.expenses = documents(at, "expenses/expenses")
        self.incomes = documents(at, "other_incomes/other_incomes")
        self.report: ProfitAndLoss = profit_and_loss(at)

    @staticmethod
    def total(found: list[dict[str, Any]]) -> int:
        return minor(sum((amount(d) for d in found), Decimal(0)))

    @staticmethod
    def by_source(found: list[dict[str, Any]]) -> dict[str, int]:
        """Source-id prefix (``ch``, ``txn``, ``po``, ``fees:po``) → total, minor units."""
        totals: dict[str, int] = defaultdict(int)
        for document in found:
            prefix = source_of(document).split("_", 1)[0]
            totals[prefix] += minor(amount(document))
        return dict(totals)

    def key(self) -> tuple[Any, ...]:
        """Every document and the report, to compare before and after a redelivery."""
        return (sorted((d["id"], str(amount(d))) for kind in (self.invoices, self.payments, self.credit_notes,
                                                             self.expenses, self.incomes) for d in kind),
                self.report)

    def check_report(self) -> None:
        """(a) every source booked once (FreshBooks keeps no idempotency key: a twin would be
        ours), every invoice sent, and the profit and loss report is what the documents say."""
        for kind in (self.invoices, self.payments, self.credit_notes, self.expenses, self.incomes):
            twins = Counter(source_of(d) for d in kind)
            assert not [(s, n) for s, n in twins.items() if n > 1], [
                {k: d.get(k) for k in ("id", "amount", "create_date", "date", "v3_status", "created_at", "updated")}
                for d in kind if twins[source_of(d)] > 1]
        assert all(i["status"] != 1 for i in self.invoices)  # no draft: a draft posts nothing
        assert minor(self.report.sales) == self.total(self.invoices) - self.total(self.credit_notes)
        assert minor(self.report.other_income) == self.total(self.incomes)
        # disputes lost (expenses kept by a balance transaction's id) under Chargebacks, apart
        # from Stripe's fees (by a payout's) under Merchant Fees
        disputes = [d for d in self.expenses if source_of(d).startswith("txn_")]
        by_category = {"Merchant Fees": self.total([d for d in self.expenses if d not in disputes]),
                       "Chargebacks": self.total(disputes)}
        assert {name: minor(value) for name, value in self.report.expenses.items()} == {
            name: total for name, total in by_category.items() if total}


#: the document each create action makes, as :class:`Books` holds them
MADE = {"freshbooks.create_invoice": "invoices", "freshbooks.create_payment": "payments",
        "freshbooks.create_credit_note": "credit_notes", "freshbooks.create_expense": "expenses",
        "freshbooks.create_other_income": "incomes"}


def check_export(month_: Month, books: Books) -> None:
    """(e): the month's export (the CSV and the workbook, the same rows) is the books, row for
    document, and so are its totals per kind and currency."""
    exported = rows_of(read_export(month_.runtime), MADE)
    kept = {(kind, str(d["id"])): (amount(d), d["amount"]["code"])
            for kind in set(MADE.values()) for d in getattr(books, kind)}
    assert {key: (row.amount, row["currency"]) for key, row in exported.items()} == kept
    in_books: Counter = Counter()
    for (kind, _), (value, code) in kept.items():
        in_books[(kind, code)] += value
    assert totals(list(exported.values()), lambda row: (MADE[row["action"]], 1)) == in_books


def stripe_activity(month_: Month) -> list[dict[str, Any]]:
    """Stripe's balance transactions of the month other than payouts and their failures, every
    one of them paid out by a payout."""
    found = [t for t in stripe_transactions(month_.stripe) if t["type"] not in ("payout", "payout_failure")]
    assert all(t["id"] in month_.stripe.account.ledger.payout_of for t in found)
    return found


def tie_out(title: str, rows: list[tuple[str, int, int]]) -> None:
    print("\n" + tie_out_table(title, rows))
    assert all(books == stripe for _, books, stripe in rows), rows
    assert all(stripe for _, _, stripe in rows)  # the month has each


def check_mode_1(booked: Month) -> Books:
    per_recipe = check_runs(booked, MODE_1)
    books = Books(booked.ledger_url)
    books.check_report()
    transactions = stripe_activity(booked)
    # (b) every invoice paid in full, by one payment
    paid = defaultdict(Decimal)
    for payment in books.payments:
        paid[str(payment["invoiceid"])] += amount(payment)
    assert {str(i["id"]): amount(i) for i in books.invoices} == dict(paid)
    assert {i["v3_status"] for i in books.invoices} == {"paid"}
    every, settled = payouts(booked)
    assert per_recipe["stripe-payout-paid-to-freshbooks-fees-expense"] == len(settled)
    spent, got = Books.by_source(books.expenses), Books.by_source(books.incomes)
    sales = books.total(books.invoices) + got.get("ch", 0)
    tie_out(f"FreshBooks, mode 1 (per transaction): the month's tie-out, {len(books.invoices)} invoices, "
            f"{len(books.incomes)} other incomes, {len(books.credit_notes)} credit notes, "
            f"{len(books.expenses)} expenses",
            [("sales (charge)", sales, by_category(transactions, "charge")),
             ("refunds (credit notes)", books.total(books.credit_notes), -by_category(transactions, "refund")),
             ("disputes lost", spent.get("txn", 0) - got.get("txn", 0),
              -by_category(transactions, "dispute", "dispute_reversal")),
             ("fees", spent.get("fees:po", 0) - got.get("fees:po", 0), sum(t["fee"] for t in transactions)),
             ("payments = invoices", books.total(books.payments), by_category(
                 [t for t in transactions if t["source"] in invoice_charges(booked)], "charge")),
             ("net profit (profit and loss)", minor(books.report.net_profit), sum(t["net"] for t in transactions))])
    return books


def invoice_charges(month_: Month) -> set[str]:
    """The Stripe charges that paid an invoice."""
    return {c["id"] for c in month_.stripe.account.store.objects["charge"].values() if c.get("invoice")}


def test_freshbooks_mode_1_sales_refunds_disputes_and_fees_tie_out(tmp_path, keys):
    with book_the_month("per-transaction", tmp_path, ledger=FRESHBOOKS) as booked:
        books = check_mode_1(booked)
        check_export(booked, books)
        check_redelivery_changes_nothing(booked, books.key(), lambda: Books(booked.ledger_url).key(),
                                         sum(check_runs(booked, MODE_1).values()))


def test_freshbooks_mode_1_after_the_worker_is_killed_midway_books_the_same(tmp_path, keys):
    """A ``ledgerlink worker`` process killed with SIGKILL a third of the way through, runs in
    flight, and another one started: FreshBooks keeps no idempotency key, so a write whose
    answer died with the worker is looked up by its source id before it is sent again; every
    document written once, the books as above."""
    with book_the_month("per-transaction", tmp_path, work=killed_midway, ledger=FRESHBOOKS) as booked:
        check_mode_1(booked)
        assert "Traceback" not in (tmp_path / "worker.log").read_text()


def test_freshbooks_mode_2_each_payout_is_income_less_expenses_of_its_amount(tmp_path, keys):
    with book_the_month("payout-summary", tmp_path, ledger=FRESHBOOKS) as booked:
        per_recipe = check_runs(booked, MODE_2)
        books = Books(booked.ledger_url)
        books.check_report()
        assert not books.invoices and not books.credit_notes
        transactions = stripe_activity(booked)
        every, paid = payouts(booked)
        assert per_recipe["stripe-payout-paid-to-freshbooks-income-and-fees"] == len(paid)
        # (b) each payout paid: its income less its expenses is its amount
        net: dict[str, int] = defaultdict(int)
        for document, sign in [(d, 1) for d in books.incomes] + [(d, -1) for d in books.expenses]:
            net[source_of(document).removeprefix("fees:")] += sign * minor(amount(document))
        assert {ident: net[ident] for ident in paid} == {ident: p["amount"] for ident, p in paid.items()}
        [failed] = [ident for ident, p in every.items() if p["status"] == "failed"]
        assert net[failed] == 0  # its fees, expensed, and the same as income: its money is paid out again
        check_export(booked, books)
        spent, got = Books.by_source(books.expenses), Books.by_source(books.incomes)
        tie_out(f"FreshBooks, mode 2 (per payout): the month's tie-out, {len(books.incomes)} other incomes, "
                f"{len(books.expenses)} expenses",
                [("sales less refunds and disputes", got.get("po", 0) - spent.get("po", 0),
                  by_category(transactions, "charge", "refund", "dispute", "dispute_reversal")),
                 ("fees", spent.get("fees:po", 0) - got.get("fees:po", 0), sum(t["fee"] for t in transactions)),
                 ("payouts paid", sum(net[ident] for ident in paid), sum(p["amount"] for p in paid.values())),
                 ("net profit (profit and loss)", minor(books.report.net_profit),
                  sum(t["net"] for t in transactions))])
        check_redelivery_changes_nothing(booked, books.key(), lambda: Books(booked.ledger_url).key(),
                                         sum(per_recipe.values()))
