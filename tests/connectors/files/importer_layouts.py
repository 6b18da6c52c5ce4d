"""The layouts the importers of ``recipes/files/`` take, as their vendors publish them, and a
reader that holds a written file to one. Not a test module.

- QuickBooks Online's bank transactions CSV, 3-column form (Intuit, "Prepare your CSV file
  for bank upload to QuickBooks"): exactly ``Date, Description, Amount`` in that order,
  Amount signed (money in positive, money out negative), no zero amount, one date format
  (the recipes write mm/dd/yyyy by default).
- Xero's CSV bank statement template (Xero Central, "Import a CSV bank statement file into
  Xero"): ``*Date, *Amount, Payee, Description, Reference``, required columns starred, money
  spent negative, dates dd/mm/yyyy.
- Xero's manual journal import template (Xero, "Enter multiple manual journals using an
  import template"): ``*Narration, *Date, Description, *AccountCode, *TaxRate, *Amount``,
  dates dd/mm/yyyy, a positive amount a debit and a negative one a credit, one journal's
  lines sharing Narration and Date.

No layout has a column of ledgerlink's own: the importers take their columns only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    header: tuple[str, ...]
    date: str      # the header of the date column
    amount: str    # the header of the signed amount column
    pattern: str   # how a date is written: strptime's
    limit: int     # lines a file the importer takes (QuickBooks: bytes, 350 KB)


LAYOUTS = {
    "quickbooks-bank-statement": Layout(("Date", "Description", "Amount"), "Date", "Amount", "%m/%d/%Y", 350 * 1024),
    "xero-bank-statement": Layout(("*Date", "*Amount", "Payee", "Description", "Reference"), "*Date", "*Amount",
                                  "%d/%m/%Y", 1000),
    "xero-manual-journal": Layout(("*Narration", "*Date", "Description", "*AccountCode", "*TaxRate", "*Amount"),
                                  "*Date", "*Amount", "%d/%m/%Y", 300),
}
DATE_SHAPE = re.compile(r"[0-3][0-9]/[0-3][0-9]/20[0-9]{2}")


@dataclass(frozen=True)
class Line:
    cells: dict[str, str]
    day: dt.date
    amount: Decimal


def read_layout(path: Path, layout: Layout, places: int) -> list[Line]:
    """The rows of ``path``, held to ``layout``: the exact header, every row of its width, dates
    in its one format (two digits a day and month, four a year), amounts with exactly
    ``places`` decimals and never zero, and within the importer's limit."""
    text = path.read_bytes().decode("utf-8")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(header) == layout.header, (path.name, header)
    lines = []
    for row in rows:
        assert len(row) == len(header), row
        cells = dict(zip(header, row))
        assert DATE_SHAPE.fullmatch(cells[layout.date]), cells
        amount = cells[layout.amount]
        assert re.fullmatch(r"-?[0-9]+" + (rf"\.[0-9]{{{places}}}" if places else ""), amount), cells
        assert Decimal(amount) != 0, cells
        lines.append(Line(cells, dt.datetime.strptime(cells[layout.date], layout.pattern).date(), Decimal(amount)))
    assert (len(text.encode()) if layout.limit > 10_000 else len(rows)) <= layout.limit, path.name
    return lines


def journals(lines: list[Line]) -> dict[tuple[str, str], list[Line]]:
    """A manual journal file's journals: its lines by (Narration, Date), as Xero groups them."""
    found: dict[tuple[str, str], list[Line]] = {}
    for line in lines:
        found.setdefault((line.cells["*Narration"], line.cells["*Date"]), []).append(line)
    return found


__all__ = ["LAYOUTS", "Layout", "Line", "journals", "read_layout"]
