"""The proof that each booking mode's books tie out to Stripe, to the cent.

The Stripe sandbox's simulated month (fixed seed: over 300 payments in USD, EUR, JPY and KWD
settled in USD, refunds, a dispute won and one lost, a payout every day, a negative one and a
failed one) reaches ledgerlink through signed webhooks, some delivered twice, and is booked by
one mode's shipped recipes into the QuickBooks sandbox (home currency USD). Then the books
are read back through QuickBooks' API only (:mod:`ledger_reading`) and compared with Stripe's
balance transactions and balance:

(a) every entry balances, and every run succeeded, once;
(b) mode 1: the clearing account "Stripe USD" equals Stripe's balance plus the payouts on their
    way to the bank at every payout's arrival, and Stripe's balance at the end; the bank
    received exactly the payouts, one entry each. Mode 2: each payout is one entry whose bank
    line is the payout;
(c) sales, fees, refunds and dispute losses equal the sums of Stripe's balance transactions of
    those reporting categories, to the minor unit;
(d) every event delivered again changes nothing.

Nothing reaches beyond loopback and nothing is timed. Selected with ``-m books``.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from books_checks import (by_category, check_clearing_at_each_payout, check_disputes, check_runs, event_times, minor,
                          payouts)
from books_checks import check_redelivery_changes_nothing as redelivered
from books_month import Month, book_the_month, killed_midway, qbo_client, query, stripe_balance, stripe_transactions
from ledger_reading import (Entry, current_balances, official_balances, read_ledger, trial_balance,
                            trial_balance_report)

pytestmark = pytest.mark.books

EVENT = re.compile(r"event (evt_\w+)")
PAYOUT = re.compile(r"payout (po_\w+)")


def the_books(month_: Month) -> list[Entry]:
    """(a): every entry read back balances, and QuickBooks' own figures agree with them:
    each account's ``CurrentBalance`` is the sum of its postings, and the trial balance
    report shows the same balances with equal debit and credit totals."""
    with qbo_client(month_.ledger_url) as qbo:
        entries = read_ledger(qbo)
        balances, (report, debits, credits) = current_balances(qbo), trial_balance_report(qbo)
    unbalanced = [(e.kind, e.id, e.postings) for e in entries if not e.balanced]
    assert not unbalanced, unbalanced[:3]
    posted = {account: amount for account, amount in trial_balance(entries).items() if amount}
    assert {account: amount for account, amount in balances.items() if amount} == posted
    assert {account: amount for account, amount in report.items() if amount} == posted
    assert debits == credits == sum(amount for amount in posted.values() if amount > 0) > 0
    return entries


def check_categories(month_: Month, balances: dict[str, Decimal], transactions: list[dict[str, Any]]) -> None:
    """(c): sales, fees, refunds and dispute losses, account by account, to the minor unit."""
    ids = month_.accounts
    account = lambda name: minor(balances.get(ids[name], Decimal(0)))  # noqa: E731
    assert -account("Services") == by_category(transactions, "charge") > 0
    assert account("Sales Returns") == -by_category(transactions, "refund") > 0
    assert account("Chargebacks") == -by_category(transactions, "dispute", "dispute_reversal") > 0
    assert account("Stripe Fees") == sum(t["fee"] for t in transactions) > 0
    assert account("Tax on Stripe Fees") == 0  # the sandbox charges no tax on its fees
    assert account("Accounts Receivable (A/R)") == 0  # every invoice booked is paid
    # the same figures as python-quickbooks reads them (CurrentBalance as QuickBooks shows it:
    # income accounts credit-positive)
    read = official_balances(month_.ledger_url, ["Services", "Stripe Fees", "Chargebacks", "Checking"])
    assert {name: minor(amount) for name, amount in read.items()} == {
        "Services": by_category(transactions, "charge"), "Stripe Fees": account("Stripe Fees"),
        "Chargebacks": account("Chargebacks"), "Checking": account("Checking")}


def check_redelivery_changes_nothing(month_: Month, entries: list[Entry], runs_before: int) -> None:
    """(d): the whole month delivered again, then the books and the runs are as they were."""
    def books() -> list[Any]:
        return sorted((e.kind, e.id, e.postings) for e in the_books(month_))
    redelivered(month_, sorted((e.kind, e.id, e.postings) for e in entries), books, runs_before)


def test_mode_1_the_clearing_account_follows_the_stripe_balance(tmp_path, keys):
    with book_the_month("clearing", tmp_path) as booked:
        entries, runs_made = check_mode_1(booked)
        check_redelivery_changes_nothing(booked, entries, runs_made)


def test_mode_1_after_the_worker_is_killed_midway_books_the_same(tmp_path, keys):
    """A ``ledgerlink worker`` process killed with SIGKILL a third of the way through, runs in
    flight, and another one started: every run done once, the books as above."""
    with book_the_month("clearing", tmp_path, work=killed_midway) as booked:
        check_mode_1(booked)
        assert "Traceback" not in (tmp_path / "worker.log").read_text()


CUSTOMER_CURRENCY = "stripe-invoice-paid-to-quickbooks-payment-into-clearing-in-customer-currency"


def test_mode_1_with_invoices_in_the_customers_currency_in_a_multicurrency_company(tmp_path, keys):
    """The alternative invoice recipe in a company with multicurrency: each invoice and its
    payment in EUR, JPY or KWD at Stripe's rate, the clearing account in USD receiving exactly
    what Stripe settled, no exchange difference, the same books in the home currency."""
    with book_the_month("clearing", tmp_path, multicurrency=True, enabled={
            "stripe-invoice-paid-to-quickbooks-payment-into-clearing": False, CUSTOMER_CURRENCY: True}) as booked:
        check_mode_1(booked, CUSTOMER_CURRENCY)
        with qbo_client(booked.ledger_url) as qbo:
            invoices = Counter(i["CurrencyRef"]["value"] for i in query(qbo, "Invoice"))
            gain_or_loss = [a for a in query(qbo, "Account") if a["Name"] == "Exchange Gain or Loss"]
        assert set(invoices) == {"USD", "EUR", "JPY", "KWD"}, invoices
        assert [a["CurrentBalance"] for a in gain_or_loss] == [0]


def check_mode_1(booked: Month, invoices: str = "stripe-invoice-paid-to-quickbooks-payment-into-clearing"
                 ) -> tuple[list[Entry], int]:
    """(a), (b) and (c) of mode 1 (``invoices``: the invoice recipe enabled); the entries and
    the number of runs."""
    per_recipe = check_runs(booked, {
        invoices,
        "stripe-charge-succeeded-to-quickbooks-sale-into-clearing",
        "stripe-charge-refunded-to-quickbooks-refund-from-clearing",
        "stripe-dispute-funds-withdrawn-to-quickbooks-clearing",
        "stripe-dispute-funds-reinstated-to-quickbooks-clearing",
        "stripe-payout-paid-to-quickbooks-transfer-from-clearing"})
    check_disputes(booked, per_recipe, "stripe-dispute-funds-withdrawn-to-quickbooks-clearing",
                   "stripe-dispute-funds-reinstated-to-quickbooks-clearing")
    entries = the_books(booked)
    balances = trial_balance(entries)
    transactions = stripe_transactions(booked.stripe)
    clearing, bank = booked.accounts["Stripe USD"], booked.accounts["Checking"]

    # (b) at the end: the clearing account is Stripe's balance, Σ net of every transaction
    assert minor(balances[clearing]) == stripe_balance(booked.stripe_url)["usd"] \
        == sum(t["net"] for t in transactions)
    # (b) the bank received exactly the payouts paid, one entry each
    _, paid = payouts(booked)
    on_bank = [(PAYOUT.search(e.note).group(1), minor(e.on(bank))) for e in entries if e.on(bank)]
    assert sorted(on_bank) == sorted((ident, p["amount"]) for ident, p in paid.items())
    # (b) at each payout's arrival: the clearing account = Stripe's balance + payouts in transit
    times = event_times(booked)
    dated = [(times[EVENT.search(e.note).group(1)], e.on(clearing)) for e in entries]
    check_clearing_at_each_payout(booked, transactions, lambda at: minor(
        sum((amount for when, amount in dated if when <= at), Decimal(0))))
    check_categories(booked, balances, transactions)
    return entries, sum(per_recipe.values())


def test_mode_2_one_summary_entry_per_payout(tmp_path, keys):
    with book_the_month("payout-summary", tmp_path) as booked:
        per_recipe = check_runs(booked, {"stripe-payout-paid-to-quickbooks-summary-journal",
                                         "stripe-payout-failed-to-quickbooks-summary-journal"})
        entries = the_books(booked)
        assert {e.kind for e in entries} == {"JournalEntry"}
        balances = trial_balance(entries)
        transactions = [t for t in stripe_transactions(booked.stripe) if t["type"] not in ("payout", "payout_failure")]
        ledger = booked.stripe.account.ledger
        assert all(t["id"] in ledger.payout_of for t in transactions)  # everything was paid out
        bank, held = booked.accounts["Checking"], booked.accounts["Stripe Failed Payouts"]

        # (b) each payout paid is one entry, whose bank line is the payout
        every, paid = payouts(booked)
        assert per_recipe["stripe-payout-paid-to-quickbooks-summary-journal"] == len(paid)
        named = Counter(PAYOUT.search(e.note).group(1) for e in entries)
        assert named == Counter(list(every)), named  # the failed one too: what it was to pay
        on_bank = {PAYOUT.search(e.note).group(1): minor(e.on(bank)) for e in entries if e.on(bank)}
        assert on_bank == {ident: p["amount"] for ident, p in paid.items()}
        assert minor(balances[bank]) == sum(p["amount"] for p in paid.values())
        # the failed payout's money is held until a later payout pays it out again
        [failed] = [p for p in every.values() if p["status"] == "failed"]
        [held_entry] = [e for e in entries if failed["id"] in e.note]
        assert minor(held_entry.on(held)) == failed["amount"] and balances.get(held, Decimal(0)) == 0
        check_categories(booked, balances, transactions)
        check_redelivery_changes_nothing(booked, entries, sum(per_recipe.values()))
