"""``ledgerlink reconcile`` on the simulated month written into files, faults planted.

The month is written by every recipe of ``recipes/files/`` (QuickBooks' bank statements,
Xero's bank statements and manual journals, as ``test_files_books_month.py`` writes it) into
one files connection, whose ``reconcile_folders`` name the layouts' folders. Untouched, the
reconciliation finds Stripe and the files in agreement — every row each step wrote found
again by its id, through the journal beside its file — and ``ledgerlink reconcile`` exits 0.
Then faults are planted in QuickBooks' September statement the ways a person makes them, in
a text editor: a fee's row deleted, a payment's amount edited, a fee's row copied to the end
of the file; and a payout written nowhere (its runs gone from the run log, its rows from the
files). The reconciliation finds every planted fault, each naming its run and its fix, and
nothing else; the command exits 3. A file's row cannot be undone: the fix for the row deleted
is to put it back, and once it is back it is found again. Selected with ``-m books``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from books_month import book_the_month
from files_books import files_ledger
from reconcile_checks import SINCE, UNTIL, cli, drifts, exported, the_planted_faults_are_found
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.engine.reconciliations import latest

pytestmark = pytest.mark.books

#: the file the faults are planted in
STATEMENT = "quickbooks/stripe-usd-statement-2023-09.csv"


def booked(month_: Any, step: str) -> list[dict[str, Any]]:
    """The steps ``step`` that wrote a row of :data:`STATEMENT`, as ``ledgerlink export`` reads them."""
    return [row for row in exported(month_) if row["kind"] == step and row["ledger_id"].startswith(STATEMENT + "#")]


def cells(line: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(line.decode("utf-8"))))


def as_line(fields: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue().encode("utf-8")


def line_of(lines: list[bytes], row: dict[str, Any]) -> int:
    """The index of the one line holding ``row``'s date and amount (a step's row of the statement)."""
    day = dt.date.fromisoformat(row["date"]).strftime("%m/%d/%Y")
    amount = row["amount"]
    fee = row["kind"] == "fee"
    found = [n for n, line in enumerate(lines[1:], start=1)
             if line and cells(line)[0] == day and Decimal(cells(line)[2]) == amount
             and ("Stripe fee" in cells(line)[1]) == fee]
    return found[0] if len(found) == 1 else 0


def unique(month_: Any, step: str, lines: list[bytes], skip: int) -> dict[str, Any]:
    """A step ``step`` of the statement, from the ``skip``-th on, whose row no other line shares."""
    return next(row for row in booked(month_, step)[skip:] if line_of(lines, row))


def plant(month_: Any, books: Path) -> tuple[dict[str, tuple[str, str, int]], Any, str]:
    """The four faults; problem → (entity or source object, id, run); how to put back the
    row deleted; and the recipe of the payout's last run (the one its fix names)."""
    path = books / STATEMENT
    lines = path.read_bytes().split(b"\r\n")
    gone, edited, copied = unique(month_, "fee", lines, 3), unique(month_, "payment", lines, 40), \
        unique(month_, "fee", lines, 60)
    payout = next(row for row in booked(month_, "payout")[5:] if row["source_id"].startswith("po_"))
    # a payout written nowhere: its runs (a statement's and a journal's each) gone, and their rows
    written = sorted((int(row["run"]), row["recipe"]) for row in exported(month_)
                     if row["source_id"] == payout["source_id"])
    runs = sorted({run for run, _ in written})
    for run in runs:
        month_.runtime.store.mark_undone(run)
    for each in books.rglob("*.csv"):
        each.write_bytes(b"\r\n".join(line for line in each.read_bytes().split(b"\r\n")
                                      if payout["source_id"].encode() not in line))
    lines = path.read_bytes().split(b"\r\n")
    at_gone, at_edited, at_copied = line_of(lines, gone), line_of(lines, edited), line_of(lines, copied)
    deleted = lines[at_gone]
    fields = cells(lines[at_edited])
    lines[at_edited] = as_line([*fields[:2], str(Decimal(fields[2]) + Decimal("1.00"))])
    twin = cells(lines[at_copied])
    lines = [*lines[:at_gone], *lines[at_gone + 1:-1], lines[at_copied], b""]  # the copy typed in at the end
    path.write_bytes(b"\r\n".join(lines))
    copy_id = f"{STATEMENT}|{copied['date']}|{twin[2]}|{twin[1]}#2"

    def put_back() -> None:
        now = path.read_bytes().split(b"\r\n")
        path.write_bytes(b"\r\n".join([*now[:at_gone], deleted, *now[at_gone:]]))

    return {"missing": ("row", gone["ledger_id"], int(gone["run"])),
            "amount": ("row", edited["ledger_id"], int(edited["run"])),
            "duplicated": ("row", copy_id, int(copied["run"])),
            "not_booked": ("payout", payout["source_id"], runs[-1])}, put_back, written[-1][1]


def test_planted_faults_in_the_files_are_found_and_nothing_else(tmp_path, keys):
    books = tmp_path / "books"
    with book_the_month("files", tmp_path, ledger=files_ledger(books)) as month_:
        clean = reconcile(month_.runtime, SINCE, UNTIL)
        assert clean.ok, [(d.problem, d.entity, d.id, d.expected, d.found) for d in clean.discrepancies][:5]
        # every row each step wrote, in the three layouts, found again
        assert clean.listed["files"] == clean.booked == len(exported(month_)) > 1500
        assert clean.listed["stripe"] > 300
        status, out = cli(month_, tmp_path)
        assert status == 0 and "both sides agree" in out, out
        assert latest(month_.runtime)["ok"] is True and not drifts(month_)

        planted, put_back, payout_recipe = plant(month_, books)
        the_planted_faults_are_found(month_, tmp_path, planted, connection="files", duplicate_entity="row",
                                     payout_recipe=payout_recipe,
                                     put_back=put_back)
