"""The clearing account "Stripe USD" against Stripe's balance at each payout, on the simulated
month booked into QuickBooks by the clearing mode, its connection naming the account by name
(``clearing_account = "Stripe USD"``) and the recipes' time zone.

Untouched, the account's balance (the TrialBalance report at each payout's arrival day)
equals Stripe's balance plus the payouts in transit at the end of that day in New York, at
every paid payout, and ``ledgerlink reconcile`` exits 0. Then a person moves 12.34 out of the
account with a journal entry (clearing → Stripe Fees) that no run made: it is ``not_linked``,
and the balances differ from the first payout after it, reported once (the difference does
not change after it), naming the entry as the likely cause. A second entry later, of 5.00,
is a second ``clearing_balance`` at the payout after it, where the difference changes again.
Selected with ``-m books``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from books_month import QUICKBOOKS, book_the_month, qbo_client
from reconcile_checks import (SINCE, UNTIL, paid_payouts, the_balance_fault_is_found,
                              the_untouched_month_agrees_at_every_payout, with_clearing)
from ledgerlink.engine.reconcile import reconcile

pytestmark = pytest.mark.books

DAY, AMOUNT = "2023-09-12", Decimal("12.34")
LATER, MORE = "2023-09-25", Decimal("5.00")


def move_by_hand(month_, day: str, amount: Decimal) -> str:
    """A journal entry dated ``day``: ``amount`` from the clearing account to Stripe Fees; its Id."""
    lines = [{"DetailType": "JournalEntryLineDetail", "Amount": str(amount), "Description": "moved by hand",
              "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": {"value": month_.accounts[name]}}}
             for posting, name in (("Debit", "Stripe Fees"), ("Credit", "Stripe USD"))]
    with qbo_client(month_.ledger_url) as qbo:
        answer = qbo.post("/journalentry", content=json.dumps({"TxnDate": day, "Line": lines,
                                                               "PrivateNote": "fees paid by card, moved by hand"}),
                          headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["JournalEntry"]["Id"])


def test_a_journal_entry_out_of_the_clearing_account_by_hand_is_found_at_the_payout_after_it(tmp_path, keys):
    with book_the_month("clearing", tmp_path, ledger=with_clearing(QUICKBOOKS, "Stripe USD")) as month_:
        the_untouched_month_agrees_at_every_payout(month_, tmp_path, "quickbooks")

        first = move_by_hand(month_, DAY, AMOUNT)
        the_balance_fault_is_found(month_, tmp_path, connection="quickbooks", entity="JournalEntry",
                                   ident=first, day=DAY, amount=AMOUNT)

        second = move_by_hand(month_, LATER, MORE)
        report = reconcile(month_.runtime, SINCE, UNTIL)
        after = [next(ident for arrival, ident in paid_payouts(month_) if arrival >= day) for day in (DAY, LATER)]
        off = [d for d in report.discrepancies if d.problem == "clearing_balance"]
        assert [d.id for d in off] == after and after[0] != after[1]
        assert off[1].found.endswith("-17.34 USD off (was -12.34 USD off)"), off[1].found
        assert f"not_linked JournalEntry {second}" in off[1].fix and f"JournalEntry {first}" not in off[1].fix
        assert sorted(d.id for d in report.discrepancies if d.problem == "not_linked") == sorted([first, second])
        assert len(report.discrepancies) == 4
