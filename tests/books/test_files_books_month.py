"""The simulated Stripe month written by the recipes of ``recipes/files/`` in each importer's
layout, read back as the importer reads it.

The month (as in ``test_books_proof.py``: over 300 payments settled in USD, refunds, a payout
a day, a negative one) reaches ledgerlink through signed webhooks, some delivered twice, and
every recipe of the folder writes its rows into one folder through a files connection. Then
each file is held to its importer's published layout (:mod:`importer_layouts`): the exact
header and column order and no column of ledgerlink's, dates in the layout's one format,
amounts with the currency's decimals, never zero, within the importer's limit a file. Each
layout's lines are Stripe's: the bank statements (QuickBooks' and Xero's) hold one line per
paid invoice (+ its amount), per fee (−), per refund (−) and per payout (− its amount, + for a
negative one), exactly those; the manual journals balance one by one and their clearing
account lines are the same amounts. Every event delivered again writes nothing. Selected
with ``-m books``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from books_checks import check_runs, payouts
from books_month import Month, book_the_month, stripe_transactions
from files_books import FOLDER, files_ledger
from importer_layouts import LAYOUTS, Line, journals, read_layout

pytestmark = pytest.mark.books

RECIPES = {path.stem for path in FOLDER.glob("*.json")}


def stripe_lines(month_: Month) -> list[Decimal]:
    """What each line of a Stripe balance statement is, in USD: a paid invoice's amount and its
    fee (−), a refund (−) and the fee Stripe charged or returned on it, a payout (−)."""
    charges = month_.stripe.account.store.objects["charge"]
    amounts: list[int] = []
    for t in stripe_transactions(month_.stripe):
        invoiced = t["type"] == "charge" and (charges.get(t["source"]) or {}).get("invoice")
        if invoiced or t["reporting_category"] == "refund":
            amounts.append(t["amount"])
            if t["fee"] > 0 or (t["fee"] and not invoiced):  # an invoice's fee line when positive
                amounts.append(-t["fee"])
    _, paid = payouts(month_)
    amounts += [-p["amount"] for p in paid.values()]
    return sorted(Decimal(a).scaleb(-2) for a in amounts)


def written(folder: Path, layout: str) -> list[Line]:
    files = sorted(folder.glob("stripe-*-statement-*.csv"))
    assert files, folder
    return [line for path in files for line in read_layout(path, LAYOUTS[layout], 2)]


def test_the_month_in_each_importers_layout_is_stripes_balance_line_for_line(tmp_path, keys):
    books = tmp_path / "books"
    with book_the_month("files", tmp_path, ledger=files_ledger(books)) as month_:
        per_recipe = check_runs(month_, RECIPES)
        expected = stripe_lines(month_)
        statements = {layout: written(books / layout.split("-")[0], layout) for layout in (
            "quickbooks-bank-statement", "xero-bank-statement")}
        for layout, lines in statements.items():
            assert sorted(line.amount for line in lines) == expected, layout
        # one statement per currency and month: the month settles in USD (September 2023, and
        # the payouts of its last days arriving in October)
        assert {p.name for p in (books / "quickbooks").glob("*.csv")} <= {
            "stripe-usd-statement-2023-09.csv", "stripe-usd-statement-2023-10.csv"}
        lines = [line for path in sorted((books / "xero").glob("stripe-manual-journals-*.csv"))
                 for line in read_layout(path, LAYOUTS["xero-manual-journal"], 2)]
        by_journal = journals(lines)
        unbalanced = {key: sum(line.amount for line in group) for key, group in by_journal.items()
                      if sum(line.amount for line in group) != 0}
        assert not unbalanced and len(by_journal) > 300
        clearing = sorted(line.amount for line in lines if line.cells["*AccountCode"] == "610")
        assert clearing == expected  # the clearing account moves as the Stripe balance's lines
        before = {path: path.read_bytes() for path in books.rglob("*.csv")}
        month_.redeliver_everything()
        assert {path: path.read_bytes() for path in books.rglob("*.csv")} == before
        assert sum(check_runs(month_, RECIPES).values()) == sum(per_recipe.values())
