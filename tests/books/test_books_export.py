"""``ledgerlink export`` of the simulated month booked by mode 1: every transaction the
recipes made in QuickBooks is one row, with its id and exactly QuickBooks' own total, read
back from the CSV with the csv module and from the workbook with openpyxl
(:mod:`export_reading`, which the Xero and FreshBooks proofs share)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from books_month import book_the_month, qbo_client, query
from export_reading import booked, read_export, totals

pytestmark = pytest.mark.books

#: the QuickBooks entity each create action makes, and the field of its total
ENTITIES = {"quickbooks.create_invoice": ("Invoice", "TotalAmt"), "quickbooks.create_payment": ("Payment", "TotalAmt"),
            "quickbooks.create_purchase": ("Purchase", "TotalAmt"),
            "quickbooks.create_journal_entry": ("JournalEntry", "TotalAmt"),
            "quickbooks.create_transfer": ("Transfer", "Amount"), "quickbooks.create_deposit": ("Deposit", "TotalAmt"),
            "quickbooks.create_refund_receipt": ("RefundReceipt", "TotalAmt")}


def test_the_months_export_is_the_quickbooks_ledger_to_the_minor_unit(tmp_path, keys):
    with book_the_month("clearing", tmp_path) as month_:
        rows = read_export(month_.runtime)
        with qbo_client(month_.ledger_url) as qbo:
            ledger = {(entity, txn["Id"]): (Decimal(str(txn[field])), txn.get("CurrencyRef", {}).get("value"),
                                            txn.get("TxnDate"), txn.get("PrivateNote", ""))
                      for entity, field in set(ENTITIES.values()) for txn in query(qbo, entity)}
    exported = booked(rows, {action: entity for action, (entity, _) in ENTITIES.items()})
    assert len(exported) > 600
    made = {key for key, (_, _, _, note) in ledger.items() if "event evt_" in note}
    assert set(exported) == made  # every transaction the recipes made, and nothing else
    for key, row in exported.items():
        total, currency, date, _ = ledger[key]
        assert (row.amount, row["currency"], row["date"]) == (total, currency, date), (key, row)
    # the export's totals per kind and currency are the ledger's
    in_ledger = totals([row for row in exported.values()], lambda row: (ENTITIES[row["action"]][0], 1))
    expected: dict[tuple[str, str], Decimal] = {}
    for (entity, _), (total, currency, _, _) in ((key, ledger[key]) for key in made):
        expected[(entity, currency)] = expected.get((entity, currency), Decimal(0)) + total
    assert dict(in_ledger) == expected
