"""``ledgerlink export`` of the simulated month booked by mode 1: every transaction the
recipes made in QuickBooks is one row, with its id and exactly QuickBooks' own total, read
back from the CSV with the csv module and from the workbook with openpyxl."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from books_month import book_the_month, qbo_client, query
from ledgerlink.engine.export import COLUMNS, export

pytestmark = pytest.mark.books

#: the QuickBooks entity each create action makes, and the field of its total
ENTITIES = {"quickbooks.create_invoice": ("Invoice", "TotalAmt"), "quickbooks.create_payment": ("Payment", "TotalAmt"),
            "quickbooks.create_purchase": ("Purchase", "TotalAmt"),
            "quickbooks.create_journal_entry": ("JournalEntry", "TotalAmt"),
            "quickbooks.create_transfer": ("Transfer", "Amount"), "quickbooks.create_deposit": ("Deposit", "TotalAmt"),
            "quickbooks.create_refund_receipt": ("RefundReceipt", "TotalAmt")}


def test_the_months_export_is_the_quickbooks_ledger_to_the_minor_unit(tmp_path, keys):
    with book_the_month("clearing", tmp_path) as booked:
        runtime = booked.runtime
        everything = (0.0, 4102444800.0)  # the month's runs, whatever day the test runs on
        text = b"".join(export(runtime.store, runtime.catalog, *everything, "csv")).decode("utf-8")
        workbook = b"".join(export(runtime.store, runtime.catalog, *everything, "xlsx"))
        with qbo_client(booked.ledger_url) as qbo:
            ledger = {(entity, txn["Id"]): (Decimal(str(txn[field])), txn.get("CurrencyRef", {}).get("value"),
                                            txn.get("TxnDate"), txn.get("PrivateNote", ""))
                      for entity, field in set(ENTITIES.values()) for txn in query(qbo, entity)}
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    booked_rows = [r for r in rows if r["action"] in ENTITIES]
    assert len(booked_rows) > 600
    exported = {(ENTITIES[r["action"]][0], r["ledger_id"]): r for r in booked_rows}
    assert len(exported) == len(booked_rows)  # one row each
    made = {key for key, (_, _, _, note) in ledger.items() if "event evt_" in note}
    assert set(exported) == made  # every transaction the recipes made, and nothing else
    for key, row in exported.items():
        total, currency, date, _ = ledger[key]
        assert (Decimal(row["amount"]), row["currency"], row["date"]) == (total, currency, date), (key, row)
    sheet = load_workbook(io.BytesIO(workbook)).worksheets[0]
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert list(header) == list(COLUMNS) and len(cells) == len(rows)
    amount, currency = COLUMNS.index("amount"), COLUMNS.index("currency")
    places = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}
    totals = Counter()
    for row in cells:
        if row[COLUMNS.index("action")] in ENTITIES:
            value = Decimal(repr(row[amount])).quantize(Decimal(1).scaleb(-places[row[currency]]))
            totals[row[currency]] += value
    expected = Counter()
    for row in booked_rows:
        expected[row["currency"]] += Decimal(row["amount"])
    assert totals == expected
