"""``ledgerlink reconcile`` on the other booking modes' months, untouched: the Xero month booked
by the payout-summary mode (a journal and a deposit per payout) and the FreshBooks month
booked per transaction (invoices and payments, other incomes, credit notes, expenses) each
agree with Stripe, nothing reported; then a FreshBooks payout's booking undone is found
booked nowhere, though that mode links its fees, not the payout. (The planted faults are in ``test_xero_books_reconcile.py``
and ``test_freshbooks_books_reconcile.py``.) Selected with ``-m books``."""

from __future__ import annotations

import pytest

from books_month import book_the_month
from freshbooks_books import FRESHBOOKS
from ledgerlink.engine.export import rows
from ledgerlink.engine.operations import undo
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
        if name == "freshbooks":
            a_payout_not_booked_per_transaction(month_)


def a_payout_not_booked_per_transaction(month_):
    """Per transaction, a payout's run links its fees' expense as ``fees:po_…``, not the
    payout: undone, the payout is still found booked nowhere, by the run's trigger."""
    fees = [row for row in rows(month_.runtime.store, month_.runtime.catalog, 0.0, 4102444800.0)
            if row["recipe"] == "stripe-payout-paid-to-freshbooks-fees-expense"]
    assert len(fees) > 5 and all(row["source_id"].startswith("fees:po_") for row in fees)
    payout = fees[3]
    undone = undo(month_.runtime, int(payout["run"]))
    assert undone["status"] == "undone", undone
    report = reconcile(month_.runtime, SINCE, UNTIL)
    found = [(d.problem, d.connection, d.id) for d in report.discrepancies]
    assert found == [("not_booked", "stripe", payout["source_id"].removeprefix("fees:"))], found
    assert f"stripe-payout-paid-to-freshbooks-fees-expense was to book it and is undone: `ledgerlink runs replay " \
        f"{payout['run']}`" in report.discrepancies[0].fix
