"""The clearing account "Stripe USD" against Stripe's balance at each payout, on the simulated
month booked into QuickBooks by the clearing mode, its connection naming the account by name
(``clearing_account = "Stripe USD"``) and the recipes' time zone.

Untouched, the account's balance (the TrialBalance report at each payout's arrival day)
equals Stripe's balance plus the payouts in transit at the end of that day in New York, at
every paid payout, and ``ledgerlink reconcile`` exits 0. Then a person moves 12.34 out of the
account with a journal entry (clearing → Stripe Fees) that no run made: it is ``not_linked``,
and the balances differ from the first payout after it, reported once (the difference does
not change after it), naming the entry as the likely cause. Selected with ``-m books``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from books_month import QUICKBOOKS, book_the_month, qbo_client
from reconcile_checks import the_balance_fault_is_found, the_untouched_month_agrees_at_every_payout, with_clearing

pytestmark = pytest.mark.books

DAY, AMOUNT = "2023-09-12", Decimal("12.34")


def test_a_journal_entry_out_of_the_clearing_account_by_hand_is_found_at_the_payout_after_it(tmp_path, keys):
    with book_the_month("clearing", tmp_path, ledger=with_clearing(QUICKBOOKS, "Stripe USD")) as month_:
        the_untouched_month_agrees_at_every_payout(month_, tmp_path, "quickbooks")

        lines = [{"DetailType": "JournalEntryLineDetail", "Amount": str(AMOUNT), "Description": "moved by hand",
                  "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": {"value": month_.accounts[name]}}}
                 for posting, name in (("Debit", "Stripe Fees"), ("Credit", "Stripe USD"))]
        with qbo_client(month_.ledger_url) as qbo:
            answer = qbo.post("/journalentry", content=json.dumps({"TxnDate": DAY, "Line": lines,
                                                                   "PrivateNote": "fees paid by card, moved by hand"}),
                              headers={"Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        entry = answer.json()["JournalEntry"]
        the_balance_fault_is_found(month_, tmp_path, connection="quickbooks", entity="JournalEntry",
                                   ident=str(entry["Id"]), day=DAY, amount=AMOUNT)
