"""``ledgerlink export`` of a booked month, read back as a person reads it. Not a test module.

:func:`read_export` exports every run of the month twice, as CSV and as a workbook, reads the
CSV with Python's csv module and the workbook with openpyxl, and checks they hold the same rows
with exact values: the workbook's amount cells are the CSV's decimals exactly (a number a
double holds exactly, or text), its date cells the CSV's days. Each ledger's proof then ties
the rows to what its ledger keeps (:func:`booked`, :func:`totals`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from ledgerlink.engine.export import COLUMNS, export

#: the month's runs, whatever day the test runs on (Unix seconds: 1970 to 2100)
EVERYTHING = (0.0, 4102444800.0)


@dataclass(frozen=True)
class Row:
    """One exported row: its CSV cells, and its amount as an exact Decimal (None when empty)."""

    cells: Mapping[str, str]
    amount: Decimal | None

    def __getitem__(self, column: str) -> str:
        return self.cells[column]


def _cell_amount(value: Any) -> Decimal | None:
    """A workbook's amount cell as the decimal it shows: a number read back through its
    shortest repr (exact when the double holds the decimal), or text."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def _cell_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return "" if value is None else str(value)


def read_export(runtime: Any) -> list[Row]:
    """Every row of the export of every run of ``runtime``, read from the CSV, checked to be
    the workbook's rows cell for cell with exact values."""
    text = b"".join(export(runtime.store, runtime.catalog, *EVERYTHING, "csv")).decode("utf-8")
    workbook = b"".join(export(runtime.store, runtime.catalog, *EVERYTHING, "xlsx"))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    sheet = load_workbook(io.BytesIO(workbook)).worksheets[0]
    header, *lines = list(sheet.iter_rows(values_only=True))
    assert list(header) == list(COLUMNS) and len(lines) == len(rows)
    read: list[Row] = []
    for row, line in zip(rows, lines):
        cells = dict(zip(COLUMNS, line))
        amount = Decimal(row["amount"]) if row["amount"] else None
        assert _cell_amount(cells["amount"]) == amount, (row, cells)  # exact: no digit lost or rounded
        assert _cell_date(cells["date"]) == row["date"], (row, cells)
        assert [str(cells[c] if cells[c] is not None else "") for c in ("currency", "ledger_id", "action")] == [
            row["currency"], row["ledger_id"], row["action"]]
        read.append(Row(row, amount))
    return read


def booked(rows: list[Row], actions: Mapping[str, str]) -> dict[tuple[str, str], Row]:
    """The rows of the create actions of ``actions`` (action → the ledger's kind of document),
    by (kind, ledger id); checked to be one row each."""
    found = [row for row in rows if row["action"] in actions]
    by_document = {(actions[row["action"]], row["ledger_id"]): row for row in found}
    assert len(by_document) == len(found)  # one row per document
    return by_document


def totals(rows: list[Row], category: Callable[[Row], tuple[str, int] | None]) -> Counter:
    """(category, currency) → Σ signed amount over ``rows``; ``category(row)`` names a row's
    category and sign (+1 / −1), or None to leave it out."""
    summed: Counter = Counter()
    for row in rows:
        named = category(row)
        if named is not None and row.amount is not None:
            summed[(named[0], row["currency"])] += named[1] * row.amount
    return summed


__all__ = ["EVERYTHING", "Row", "booked", "read_export", "totals"]
