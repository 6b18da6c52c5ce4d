"""``files.append_xlsx``: one row per run appended to an Excel workbook, exactly once.

A workbook is one zip archive, not a stream of lines: a row is added by reading the whole
file, adding the row with openpyxl and writing the whole file again. The action reads it
(:class:`ledgerlink.contract.ReadFile`), and replaces it only if nobody replaced it since
(:class:`ledgerlink.contract.WriteFile` with ``expect_sha256``); another writer's row in
between makes the host answer ``conflict``, and the action reads again, so no writer's row is
lost, whether the writers are threads or processes. Readers see the old workbook or the
new one, never a mix (the host writes a temporary file and renames it into place).

Exactly once: the row's last cell is the run's idempotency key, and a step that finds its
key in the workbook writes nothing (its earlier attempt wrote, then its answer was lost). With
``key_column`` null the rows carry no key: the host's journal, checked before the workbook is
replaced, answers ``already_applied`` for a key it wrote.

Cells are typed: money as a number with the currency's decimals (number format ``0.00``,
``0`` for JPY, ``0.000`` for KWD), a date as a date shown ``yyyy-mm-dd``, text as text (a
formula start neutralised, :mod:`ledgerlink.contract.cells`). Exactness: openpyxl writes the
Decimal's own digits, and a spreadsheet reads them into a double, exact to 15 significant
digits; an amount or number of more digits would be rounded, so it is written as text
instead (its digits kept, not summed by a formula).

Undo: as for CSV, none; a reversal is a row of its own.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.contract import Action, ActionContext, FileResult, ReadFile, WriteFile
from ledgerlink.contract.cells import exact_as_number, number_format
from ledgerlink.errors import FileEffectError
from ledgerlink_files.csv_file import OUTPUT
from ledgerlink_files.rows import DATE_FORMATS, KEY_COLUMN, Cell, Row, entry, input_schema, read_row, row_id

NAME = "files.append_xlsx"
#: how many times a write that found the workbook replaced under it reads it again
ATTEMPTS = 50
SHEET = "Ledger"

INPUT = input_schema(".xlsx", {
    "sheet": {"type": "string", "minLength": 1, "maxLength": 31,
              "description": f"The worksheet the rows go to, in a new workbook (default {SHEET})."},
})

SAMPLE = {
    "file": "stripe/payments.xlsx", "rotation": "daily", "date": "2026-01-31", "currency": "KWD",
    "columns": [{"name": "Date", "value": "2026-01-31", "type": "date"},
                {"name": "Amount", "value": "-12.345", "type": "money"},
                {"name": "Description", "value": "+1 refund"}],
}


def put(sheet: Any, row: int, column: int, cell: Cell) -> None:
    """Write ``cell`` into the sheet, typed (see the module's docstring)."""
    target = sheet.cell(row=row, column=column)
    if cell.value is None:
        return
    if isinstance(cell.value, dt.date):
        target.value = cell.value
        target.number_format = DATE_FORMATS[cell.shown]
    elif isinstance(cell.value, Decimal) and exact_as_number(cell.value):
        target.value = cell.value
        if cell.places is not None:
            target.number_format = number_format(cell.places)
    else:  # text, or a number a double would round: kept as its digits
        target.value = cell.as_text()
        target.data_type = "s"  # never a formula, whatever it starts with


def open_book(content: bytes, row: Row) -> Any:
    """The workbook in ``content``; FileEffectError when it is not one."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return load_workbook(io.BytesIO(content))
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileEffectError(f"{row.path!r} is not an Excel workbook ({type(exc).__name__}); "
                              f"name another file") from None


def key_row(sheet: Any, row: Row) -> int | None:
    """The number of the sheet's row holding ``row.key`` in its last column, or None.

    FileEffectError when the sheet's header is not the row's (a file keeps one layout)."""
    header = tuple(next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ()))
    if header != row.header:
        raise FileEffectError(f"{row.path!r} has the columns {list(header)}, this step writes "
                              f"{list(row.header)}; a file keeps one layout: name another file")
    if not row.keyed:  # no key column: the host's journal alone knows which rows were written
        return None
    width = len(row.header)
    for number, cells in enumerate(sheet.iter_rows(min_row=2, min_col=width, max_col=width,
                                                   values_only=True), start=2):
        if cells and cells[0] == row.key:
            return number
    return None


def with_row(content: bytes, row: Row, sheet_name: str) -> bytes | None:
    """The workbook ``content`` (a new one when empty) with ``row`` added, as bytes; None
    when a row of the workbook already holds the row's key."""
    if content:
        book = open_book(content, row)
        sheet = book.worksheets[0]
        if key_row(sheet, row) is not None:
            return None
        number = sheet.max_row + 1
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = sheet_name
        for column, name in enumerate(row.header, start=1):
            put(sheet, 1, column, Cell("text", name))
        number = 2
    for offset, cells in enumerate(row.lines):
        for column, cell in enumerate(cells, start=1):
            put(sheet, number + offset, column, cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _output(row: Row, status: str) -> dict[str, Any]:
    """The step's output; its id (``FILE#KEY``) only when the row's ``ledgerlink_key`` column
    names it: a workbook keeps no journal of its rows, so a reader finds a row by that column."""
    named = {"id": row_id(row.path, row.key)} if row.keyed and row.header[-1] == KEY_COLUMN else {}
    return {**named, "path": row.path, "key": row.key, "status": status}


def perform(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Any, dict[str, Any]]:
    """Read the workbook, add the row unless its key is there, replace it if unchanged since."""
    row, data = read_row(NAME, data, ctx.idempotency_key, ".xlsx", ("sheet",))
    for _ in range(ATTEMPTS):
        current: FileResult = yield ReadFile(row.path)
        content = with_row(current.content, row, str(data.get("sheet", SHEET)))
        if content is None:
            return _output(row, "already_applied")
        result: FileResult = yield WriteFile(row.path, content, ctx.idempotency_key,
                                             expect_sha256=current.sha256)
        if result.status != "conflict":
            return _output(row, "appended" if result.status == "written" else result.status)
    raise FileEffectError(f"{row.path!r} was replaced by other writers {ATTEMPTS} times while this "
                          f"step added its row; it is tried again", kind="retry")


def find_existing(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Any, dict[str, Any] | None]:
    """The row an earlier attempt of this step wrote (its key in the last column), or None."""
    row, _ = read_row(NAME, data, ctx.idempotency_key, ".xlsx", ("sheet",))
    current: FileResult = yield ReadFile(row.path)
    if not current.content:
        return None
    found = key_row(open_book(current.content, row).worksheets[0], row)
    return _output(row, "already_applied") if found is not None else None


APPEND_XLSX = Action(
    name=NAME,
    summary="Appends one typed row to an Excel workbook, exactly once; money exact, dates as dates.",
    input_schema=INPUT, output_schema=OUTPUT, sample=SAMPLE,
    sample_response={"id": "stripe/payments-2026-01-31.xlsx#sample-key", "path": "stripe/payments-2026-01-31.xlsx",
                     "key": "sample-key", "status": "appended"},
    perform=perform, find_existing=find_existing, undo=None, entry=entry(".xlsx", ("sheet",)),
)
