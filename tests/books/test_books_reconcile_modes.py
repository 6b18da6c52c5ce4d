"""``ledgerlink reconcile`` on the other booking modes' months, untouched: the Xero month booked
by the payout-summary mode (a journal and a deposit per payout) and the FreshBooks month
booked per transaction (invoices and payments, other incomes, credit notes, expenses) each
agree with Stripe, nothing reported. (The planted faults are in ``test_xero_books_reconcile.py``
and ``test_freshbooks_books_reconcile.py``.) Selected with ``-m books``."""

from __future__ import annotations

import pytest

from books_month import book_the_month
from freshbooks_books import FRESHBOOKS
from ledgerlink.engine.reconcile import reconcile
from xero_books import XERO

pytestmark = pytest.mark.books

SINCE, UNTIL = "2023-09-01", "2023-10-15"  # the month, and the payouts arriving after it


@pytest.mark.parametrize(("ledger", "mode", "name", "least"), [(XERO, "payout-summary", "xero", 50),
                                                                (FRESHBOOKS, "per-transaction", "freshbooks", 300)],
                         ids=["xero-payout-summary", "freshbooks-per-transaction"])
def test_an_untouched_month_agrees(tmp_path, keys, ledger, mode, name, least):
    with book_the_month(mode, tmp_path, ledger=ledger) as month_:
        report = reconcile(month_.runtime, SINCE, UNTIL)
        assert report.ok, [(d.problem, d.entity, d.id, d.expected, d.found) for d in report.discrepancies][:5]
        assert report.listed[name] >= least and report.booked >= least and report.listed["stripe"] > 300
