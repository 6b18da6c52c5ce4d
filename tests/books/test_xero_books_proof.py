"""The proof that each booking mode's Xero books tie out to Stripe, to the cent.

The Stripe sandbox's simulated month (as in ``test_books_proof.py``: over 300 payments in USD,
EUR, JPY and KWD settled in USD, refunds, disputes won and lost, a payout a day, a negative
one and a failed one) reaches ledgerlink through signed webhooks, some delivered twice, and
is booked by one mode's Xero recipes (``recipes/xero/``) into the Xero sandbox (base currency
USD). Then the books are read back through Xero's Accounting API only (:mod:`xero_books`:
every document, and ``GET /Reports/TrialBalance``) and compared with Stripe's balance
transactions and balance:

(a) every document balances, the trial balance report's balances are the documents'
    postings and its debits equal its credits, and every run succeeded, once;
(b) mode 1: the clearing bank account "Stripe USD" equals Stripe's balance plus the payouts
    on their way to the bank at every payout's arrival, and Stripe's balance at the end; the
    bank received exactly the payouts, one transfer each. Mode 2: each payout is one manual
    journal and one bank transaction of the payout's amount, Stripe Payouts in Transit and
    Stripe Failed Payouts back at zero;
(c) sales, fees, refunds and dispute losses equal the sums of Stripe's balance transactions
    of those reporting categories, to the minor unit;
(d) every event delivered again changes nothing;
(e) ``ledgerlink export`` of the month, as CSV and as a workbook (:mod:`export_reading`), has
    one row per document the recipes made, with its Xero id and exactly Xero's total,
    currency and date; mode 1: its rows add up, per currency, to the ledger's sales, refunds,
    fees and disputes, payouts and clearing account; mode 2: to the payouts the bank received.

Mode 1 runs once more with its runs worked off by a ``ledgerlink worker`` process killed with
SIGKILL a third of the way through and a second one: the same books. The month's tie-out
table is printed (``-s``). Nothing reaches beyond loopback and nothing
is timed. Selected with ``-m books``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from books_checks import (by_category, check_clearing_at_each_payout, check_disputes,
                          check_redelivery_changes_nothing, check_runs, minor, payouts, settled_times,
                          tie_out_table)
from books_month import Month, book_the_month, killed_midway, stripe_balance, stripe_transactions
from export_reading import Row, booked, read_export, totals as summed
from xero_books import CODES, XERO, Posted, balances, client, read_books, trial_balance_report

pytestmark = pytest.mark.books

PAYOUT = re.compile(r"(po_\w+)")
MODE_1 = {"stripe-invoice-paid-to-xero-payment-into-clearing", "stripe-charge-succeeded-to-xero-sale-into-clearing",
          "stripe-charge-refunded-to-xero-refund-from-clearing",
          "stripe-dispute-funds-withdrawn-to-xero-spend-from-clearing",
          "stripe-dispute-funds-reinstated-to-xero-receive-into-clearing",
          "stripe-payout-paid-to-xero-transfer-from-clearing"}
MODE_2 = {"stripe-payout-paid-to-xero-summary-journal", "stripe-payout-failed-to-xero-summary-journal"}


def the_books(month_: Month) -> list[Posted]:
    """(a): every document read back balances, and Xero's trial balance report agrees with
    their postings, its debits equal to its credits."""
    with client(month_.ledger_url) as api:
        books = read_books(api)
        report, debits, credits = trial_balance_report(api)
    unbalanced = [(e.kind, e.id, e.postings) for e in books if not e.balanced]
    assert not unbalanced, unbalanced[:3]
    posted = {code: amount for code, amount in balances(books).items() if amount}
    assert report == posted
    assert debits == credits == sum(amount for amount in posted.values() if amount > 0) > 0
    return books


def tie_out(title: str, totals: dict[str, Decimal], transactions: list[dict[str, Any]],
            rows: list[tuple[str, int, int]]) -> None:
    """(c) and the table: sales, fees, refunds and disputes lost as Stripe reports them, then
    ``rows``; printed, then every row must tie."""
    account = lambda what: minor(totals.get(CODES[what], Decimal(0)))  # noqa: E731
    table = [("sales (charge)", -account("sales"), by_category(transactions, "charge")),
             ("fees", account("fees"), sum(t["fee"] for t in transactions)),
             ("tax on fees", account("fee_tax"), 0),
             ("refunds", account("refunds"), -by_category(transactions, "refund")),
             ("disputes lost", account("chargebacks"), -by_category(transactions, "dispute", "dispute_reversal")),
             ("accounts receivable", account("receivable"), 0)] + rows
    print("\n" + tie_out_table(title, table))
    assert all(books == stripe for _, books, stripe in table), table
    assert all(stripe for name, _, stripe in table[:5] if name != "tax on fees")  # the month has each


def times_of(month_: Month, transactions: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """(document kind, Reference) -> when Stripe's balance moved for it: a balance
    transaction's creation, a dispute's withdrawal or reinstatement, a payout's arrival."""
    when: dict[tuple[str, str], int] = {}
    for t in transactions:
        for kind in ("Payment", "BankTransaction RECEIVE", "BankTransaction SPEND"):
            when[(kind, t["id"])] = t["created"]
        if t["reporting_category"] in ("dispute", "dispute_reversal"):
            kind = "BankTransaction SPEND" if t["reporting_category"] == "dispute" else "BankTransaction RECEIVE"
            when[(kind, t["source"])] = t["created"]
    for ident, at in settled_times(month_).items():
        when[("BankTransfer", ident)] = when[("BankTransfer", f"{ident} returned")] = at
    return when


#: the document each create action makes, as :func:`~xero_books.read_books` names its kind
MADE = {"xero.create_invoice": "Invoice", "xero.create_payment": "Payment",
        "xero.create_bank_transaction": "BankTransaction", "xero.create_bank_transfer": "BankTransfer",
        "xero.create_manual_journal": "ManualJournal"}
#: mode 1: (recipe's step id, whether its recipe is a dispute reinstated or a payout returned)
#: → the figure it adds to and the sign (money out of the clearing account positive)
MODE_1_FIGURES = {("sale", False): ("sales", 1), ("invoice", False): ("sales", 1), ("refund", False): ("refunds", 1),
                  ("fee", False): ("fees and disputes", 1), ("fee_returned", False): ("fees and disputes", -1),
                  ("dispute", False): ("fees and disputes", 1), ("dispute", True): ("fees and disputes", -1),
                  ("transfer", False): ("payouts", 1), ("reversal", True): ("payouts", -1)}


def check_export(month_: Month, books: list[Posted]) -> list[Row]:
    """(e), each row: every document the recipes made is one row, with Xero's own total,
    currency and date."""
    rows = read_export(month_.runtime)
    exported = booked(rows, MADE)
    kept = {(e.kind.split(" ")[0], e.id): e for e in books}
    assert set(exported) == set(kept)  # every document, and nothing else
    for key, row in exported.items():
        entry = kept[key]
        assert (row.amount, row["currency"] or entry.currency, row["date"]) == (
            entry.total, entry.currency or row["currency"], entry.date), (key, row.cells)
    assert {row["currency"] for row in exported.values()} == {"USD"}  # the month settles in USD
    return [row for row in rows if row["action"] in MADE]


def export_ties_out_mode_1(month_: Month, books: list[Posted]) -> None:
    """(e), mode 1: the export's rows, signed by what each recipe's step books, are the
    ledger's accounts per currency. A transfer's row is unsigned (its amount Xero's, always
    positive): it is signed by its payout, a negative one moving money from the bank."""
    rows = check_export(month_, books)
    every, _ = payouts(month_)

    def figure(row: Row) -> tuple[str, int] | None:
        back = "reinstated" in row["recipe"] or "reverse" in row["recipe"]
        name, sign = MODE_1_FIGURES.get((row["kind"], back), ("", 0))
        if name == "payouts" and every[row["source_id"]]["amount"] < 0:
            sign = -sign
        return (name, sign) if name else None

    exported = summed(rows, figure)
    account = balances(books)
    got = lambda name: account.get(CODES[name], Decimal(0))  # noqa: E731
    ledger = {("sales", "USD"): -got("sales"), ("refunds", "USD"): got("refunds"),
              ("fees and disputes", "USD"): got("fees") + got("fee_tax") + got("chargebacks"),
              ("payouts", "USD"): got("bank")}
    assert dict(exported) == ledger and all(ledger.values())
    clearing = exported[("sales", "USD")] - sum(exported[(name, "USD")] for name in (
        "refunds", "fees and disputes", "payouts"))
    assert clearing == got("clearing")
    assert sum(row.amount for row in rows if row["kind"] == "payment") == exported[("sales", "USD")] - sum(
        row.amount for row in rows if row["kind"] == "sale")  # every invoice paid


def check_mode_1(booked: Month) -> tuple[list[Posted], int]:
    per_recipe = check_runs(booked, MODE_1)
    check_disputes(booked, per_recipe, "stripe-dispute-funds-withdrawn-to-xero-spend-from-clearing",
                   "stripe-dispute-funds-reinstated-to-xero-receive-into-clearing")
    books = the_books(booked)
    totals = balances(books)
    transactions = stripe_transactions(booked.stripe)
    clearing, bank = CODES["clearing"], CODES["bank"]
    _, paid = payouts(booked)

    # (b) the bank received exactly the payouts paid, one transfer each
    on_bank = sorted((e.reference, minor(e.on(bank))) for e in books if e.on(bank))
    assert {e.kind for e in books if e.on(bank)} == {"BankTransfer"}
    assert on_bank == sorted((ident, p["amount"]) for ident, p in paid.items())
    # (b) at each payout's arrival: the clearing account = Stripe's balance + payouts in transit
    when = times_of(booked, transactions)
    dated = [(when[(e.kind, e.reference)], e.on(clearing)) for e in books if e.on(clearing)]
    checked = check_clearing_at_each_payout(booked, transactions, lambda at: minor(
        sum((amount for moment, amount in dated if moment <= at), Decimal(0))))
    # (b) at the end: the clearing account is Stripe's balance, Σ net of every transaction
    stripe_now = stripe_balance(booked.stripe_url)["usd"]
    assert stripe_now == sum(t["net"] for t in transactions)
    tie_out(f"Xero, mode 1 (clearing account): the month's tie-out, {len(books)} documents, "
            f"{checked} payouts each tied", totals, transactions,
            [("bank = payouts paid", minor(totals[bank]), sum(p["amount"] for p in paid.values())),
             ("clearing = Stripe balance", minor(totals[clearing]), stripe_now)])
    return books, sum(per_recipe.values())


def test_xero_mode_1_the_clearing_account_follows_the_stripe_balance(tmp_path, keys):
    with book_the_month("clearing", tmp_path, ledger=XERO) as booked:
        books, runs_made = check_mode_1(booked)
        export_ties_out_mode_1(booked, books)
        check_redelivery_changes_nothing(booked, sorted(e.key() for e in books),
                                         lambda: sorted(e.key() for e in the_books(booked)), runs_made)


def test_xero_mode_1_after_the_worker_is_killed_midway_books_the_same(tmp_path, keys):
    """A ``ledgerlink worker`` process killed with SIGKILL a third of the way through, runs in
    flight, and another one started: every Xero document written once, the books as above."""
    with book_the_month("clearing", tmp_path, work=killed_midway, ledger=XERO) as booked:
        check_mode_1(booked)
        assert "Traceback" not in (tmp_path / "worker.log").read_text()


def test_xero_mode_2_one_journal_and_one_deposit_per_payout(tmp_path, keys):
    with book_the_month("payout-summary", tmp_path, ledger=XERO) as booked:
        per_recipe = check_runs(booked, MODE_2)
        books = the_books(booked)
        assert {e.kind for e in books} == {"ManualJournal", "BankTransaction RECEIVE", "BankTransaction SPEND"}
        totals = balances(books)
        transactions = [t for t in stripe_transactions(booked.stripe) if t["type"] not in ("payout", "payout_failure")]
        assert all(t["id"] in booked.stripe.account.ledger.payout_of for t in transactions)  # all paid out
        every, paid = payouts(booked)
        bank, in_transit, failed_account = CODES["bank"], CODES["in_transit"], CODES["failed"]
        assert per_recipe["stripe-payout-paid-to-xero-summary-journal"] == len(paid)

        # (b) each payout paid is one journal (its in-transit line the payout) and one deposit
        journals = {PAYOUT.search(e.reference).group(1): e for e in books if e.kind == "ManualJournal"}
        assert set(journals) == set(every)  # the failed one too: what it was to pay
        assert {ident: minor(journals[ident].on(in_transit)) for ident in paid} == {
            ident: p["amount"] for ident, p in paid.items()}
        on_bank = sorted((e.reference, minor(e.on(bank))) for e in books if e.on(bank))
        assert on_bank == sorted((ident, p["amount"]) for ident, p in paid.items())
        # the failed payout's money is held until a later payout pays it out again
        [failed] = [p for p in every.values() if p["status"] == "failed"]
        assert minor(journals[failed["id"]].on(failed_account)) == failed["amount"]
        # (e) the export: a row per document; its deposits, signed by their payouts (a negative
        # one is money spent), are what the bank received
        exported = check_export(booked, books)
        to_bank = summed([r for r in exported if r["kind"] == "deposit"],
                         lambda row: ("bank", 1 if every[row["source_id"]]["amount"] > 0 else -1))
        assert dict(to_bank) == {("bank", "USD"): totals[bank]}
        tie_out(f"Xero, mode 2 (one summary per payout): the month's tie-out, {len(journals)} journals",
                totals, transactions,
                [("bank = payouts paid", minor(totals[bank]), sum(p["amount"] for p in paid.values())),
                 ("payouts in transit", minor(totals.get(in_transit, Decimal(0))), 0),
                 ("failed payouts held", minor(totals.get(failed_account, Decimal(0))), 0)])
        check_redelivery_changes_nothing(booked, sorted(e.key() for e in books),
                                         lambda: sorted(e.key() for e in the_books(booked)), sum(per_recipe.values()))
