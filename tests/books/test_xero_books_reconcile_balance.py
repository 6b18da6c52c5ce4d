"""The clearing bank account "Stripe USD" (code 099) against Stripe's balance at each payout,
on the simulated month booked into Xero by the clearing mode, its connection naming the
account (``clearing_account = "099"``) and the recipes' time zone.

Untouched, the account's balance (its row of ``GET /Reports/TrialBalance?date=`` at each
payout's arrival day) equals Stripe's balance plus the payouts in transit at the end of that
day in New York, at every paid payout, and ``ledgerlink reconcile`` exits 0. Then a person
spends 12.34 from the account by hand (a spend-money bank transaction to Stripe Fees; Xero
takes no manual journal on a bank account) that no run made: it is ``not_linked``, and the
balances differ from the first payout after it, reported once, naming the transaction as the
likely cause. Selected with ``-m books``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from books_month import book_the_month
from reconcile_checks import the_balance_fault_is_found, the_untouched_month_agrees_at_every_payout, with_clearing
from ledgerlink import jsonio
from xero_books import CODES, XERO, client

pytestmark = pytest.mark.books

DAY, AMOUNT = "2023-09-12", Decimal("12.34")


def test_money_spent_from_the_clearing_account_by_hand_is_found_at_the_payout_after_it(tmp_path, keys):
    with book_the_month("clearing", tmp_path, ledger=with_clearing(XERO, CODES["clearing"])) as month_:
        the_untouched_month_agrees_at_every_payout(month_, tmp_path, "xero")

        spent = {"Type": "SPEND", "Contact": {"Name": "Office Supplies Co"}, "Date": DAY,
                 "BankAccount": {"Code": CODES["clearing"]}, "LineAmountTypes": "NoTax", "Reference": "by hand",
                 "LineItems": [{"Description": "card fees paid from Stripe by hand", "Quantity": 1,
                                "UnitAmount": AMOUNT, "AccountCode": CODES["fees"]}]}
        with client(month_.ledger_url) as api:
            answer = api.put("/BankTransactions", content=jsonio.dumps({"BankTransactions": [spent]}).encode(),
                             headers={"Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        [made] = answer.json()["BankTransactions"]
        the_balance_fault_is_found(month_, tmp_path, connection="xero", entity="BankTransaction",
                                   ident=made["BankTransactionID"], day=DAY, amount=AMOUNT)
