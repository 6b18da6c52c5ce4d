"""One row of a ledger file, read from an action's input: its file, its columns, its cells.

The input names the columns in order, each with its value and type; the row's last column
holds the run's idempotency key (``key_column``), so the file itself says which run wrote
each row, and a step run again finds its row instead of writing it twice. ``key_column``
null writes no key column, for an importer that refuses a column it does not know: exactly
once then rests on the host's journal beside the file alone (:mod:`ledgerlink.io.files`:
each key's line written and fsynced before its row, checked against the file after a crash),
which keeps a row written once whatever moment a worker is killed at, as long as the journal
stays beside its file.

Cells by type:

- ``text`` (the default): the string as given, except that a string starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``: a spreadsheet
  opening the file would run it as a formula (CSV injection; OWASP's advice);
- ``money``: an exact decimal in the column's currency (or the input's), written with exactly
  the currency's decimals (12.5 USD is ``12.50``, 1500 JPY ``1500``); more decimals than the
  currency has are refused, not rounded; a negative amount is a number, never neutralised;
- ``number``: an exact decimal (an exchange rate, a quantity);
- a money or number column with ``negate`` holds the opposite of its value (a bank statement's
  money out is negative where the source reports a positive fee or payout);
- ``date``: a ``YYYY-MM-DD`` calendar date, written in ISO 8601 unless the column's ``format``
  is ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (an importer that reads no other, such as Xero's manual
  journals).

A run writes one row (``columns``), or several at once (``rows``: a journal's lines, which
must reach an importer together and balanced): they are written as one record, all or
nothing, each carrying the run's key.

The file name rotates with the run's ``date``: ``payments.csv`` is ``payments-2026-01.csv``
(``monthly``) or ``payments-2026-01-31.csv`` (``daily``).

What a step wrote, as ``ledgerlink export`` and ``ledgerlink reconcile`` read it: its id is
``FILE#KEY`` (:func:`row_id`: the file and the run's key, which the journal beside the file
records), and its :func:`entry` the row's date (its ``Date`` or ``*Date`` column), amount
(its ``Amount`` or ``*Amount`` column, else its first money column; a journal's several rows
are booked for the total of their positive amounts, its debits) and currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any, cast

from ledgerlink.contract.cells import neutralised
from ledgerlink.contract.components import Entry
from ledgerlink.contract.money import amount, exponent, fit_currency, is_currency
from ledgerlink.contract.problems import Problems, begin, date, show, text
from ledgerlink.errors import LedgerlinkError

#: the key column's default header
KEY_COLUMN = "ledgerlink_key"
TYPES = ("text", "money", "number", "date")
#: how a date column may be written, and its spreadsheet number format
DATE_FORMATS = {"iso": "yyyy-mm-dd", "dd/mm/yyyy": "dd/mm/yyyy", "mm/dd/yyyy": "mm/dd/yyyy"}
ROTATIONS = ("none", "daily", "monthly")
#: a cell's longest text: what Excel keeps in a cell
CELL_LIMIT = 32767
#: the longest file name a recipe gives: a step's id (its file, rotated, ``#`` and the run's
#: key) stays within the 255 characters a link's id holds
FILE_LIMIT = 200
#: the columns a ledger layout dates and amounts its rows by (QuickBooks' and Xero's templates)
DATE_COLUMNS = ("Date", "*Date")
AMOUNT_COLUMNS = ("Amount", "*Amount")


def _described(description: str, **schema: Any) -> dict[str, Any]:
    return {**schema, "description": description}


COLUMN = {
    "type": "object",
    "required": ["name", "value"],
    "additionalProperties": False,
    "properties": {
        "name": _described("The column's header.", type="string", minLength=1),
        "value": _described("The cell: a string, a Decimal or an integer (never a float); null "
                            "leaves it empty."),
        "type": _described("text (default), money, number or date.", enum=list(TYPES)),
        "currency": _described("A money column's ISO 4217 currency, when not the input's currency.",
                               type="string"),
        "negate": _described("Write the opposite of a money or number value (a fee the source "
                             "reports as positive, money out of the account on a statement).",
                             type="boolean"),
        "format": _described("A date column's format: iso (YYYY-MM-DD, the default), dd/mm/yyyy or "
                             "mm/dd/yyyy.", enum=list(DATE_FORMATS)),
    },
}


def input_schema(extension: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The input of an append action writing files ending in ``extension``."""
    return {
        "type": "object",
        "required": ["file", "date"],
        "additionalProperties": False,
        "properties": {
            "file": _described(f"The file, relative to the connection's folder (e.g. "
                               f"\"stripe/payments{extension}\"); it ends in {extension}.", type="string"),
            "rotation": _described("none (default), daily or monthly: the run's date is put in the "
                                   "file's name (payments-2026-01.csv).", enum=list(ROTATIONS)),
            "date": _described("The run's date, YYYY-MM-DD: the rotation's.", type="string"),
            "currency": _described("The money columns' ISO 4217 currency.", type="string"),
            "columns": _described("The row's cells, in order: the file's header is their names.",
                                  type="array", minItems=1, items=COLUMN),
            "rows": _described("Instead of columns: several rows written together, all or nothing "
                               "(a journal's lines), each with the same column names in the same order.",
                               type="array", minItems=1,
                               items={"type": "array", "minItems": 1, "items": COLUMN}),
            "key_column": _described(f"The header of the last column, which holds the run's "
                                     f"idempotency key (default {KEY_COLUMN}); null: no key column, for "
                                     f"an importer that refuses extra columns (exactly once then rests on "
                                     f"the host's journal beside the file alone).",
                                     type=["string", "null"], minLength=1),
            **extra,
        },
    }


@dataclass(frozen=True)
class Cell:
    """One typed cell: ``value`` is a str (text), a Decimal (money, number), a date, or None."""

    kind: str
    value: str | Decimal | dt.date | None
    #: a money cell's decimals (its currency's); None for other cells
    places: int | None = None
    #: a date cell's format (a key of DATE_FORMATS)
    shown: str = "iso"

    def as_text(self) -> str:
        """The cell as a CSV field holds it."""
        if self.value is None:
            return ""
        if isinstance(self.value, dt.date):
            if self.shown == "dd/mm/yyyy":
                return self.value.strftime("%d/%m/%Y")
            if self.shown == "mm/dd/yyyy":
                return self.value.strftime("%m/%d/%Y")
            return self.value.isoformat()
        return str(self.value)


@dataclass(frozen=True)
class Row:
    """What one run appends: the file it goes to, the header and its lines of cells (one, or
    a journal's several), each line's last cell the key unless ``keyed`` is False."""

    path: str
    header: tuple[str, ...]
    lines: tuple[tuple[Cell, ...], ...]
    key: str
    #: whether each line's last cell is the key (False: ``key_column`` null, no key column)
    keyed: bool = True


def rotated(file: str, rotation: str, day: dt.date) -> str:
    """``file`` with the run's day or month before its extension (``none``: unchanged)."""
    if rotation == "none":
        return file
    stamp = day.isoformat() if rotation == "daily" else day.isoformat()[:7]
    path = PurePosixPath(file)
    return str(path.with_name(f"{path.stem}-{stamp}{path.suffix}"))


def read_row(action: str, data: object, key: str, extension: str,
             options: tuple[str, ...] = ()) -> tuple[Row, Mapping[str, Any]]:
    """The row ``data`` asks for, or InputError naming every problem; and the input itself."""
    names = ("file", "rotation", "date", "currency", "columns", "rows", "key_column", *options)
    problems = begin(action, "a row", data, names)
    data = cast(Mapping[str, Any], data)  # begin raised unless it is an object
    file = _file(data.get("file"), extension, problems)
    rotation = data.get("rotation", "none")
    if rotation not in ROTATIONS:
        problems.add("/rotation", f"must be one of {', '.join(ROTATIONS)}, got {show(rotation)}")
    day = date(data.get("date"), "/date", problems)
    currency = data.get("currency")
    if currency is not None and not is_currency(currency):
        problems.add("/currency", f"must be an ISO 4217 currency code such as \"USD\", got {show(currency)}")
        currency = None
    key_column = data.get("key_column", KEY_COLUMN)
    if key_column is not None and (not isinstance(key_column, str) or not key_column):
        problems.add("/key_column", f"must be a column name, or null for none, got {show(key_column)}")
    if ("columns" in data) == ("rows" in data):
        problems.add("/columns", "give the row's columns, or rows (several written together), not both or neither")
    lines: list[tuple[Cell, ...]] = []
    header: list[str] = []
    if "columns" in data:
        header, cells = _columns(data.get("columns"), "/columns", currency, problems)
        lines.append(tuple(cells))
    elif not isinstance(data.get("rows"), list) or not data["rows"]:
        problems.add("/rows", f"must be a non-empty array of rows, got {show(data.get('rows'))}")
    else:
        for index, raw in enumerate(data["rows"]):
            names, cells = _columns(raw, f"/rows/{index}", currency, problems)
            if index and names != header:
                problems.add(f"/rows/{index}", f"row {index} has the columns {names}, row 0 {header}: "
                                               f"the rows of one file share its header")
            header = header or names
            lines.append(tuple(cells))
    if key_column in header:
        problems.add("/key_column", f"{key_column!r} is also a column's name; the key has a column of its own")
    problems.raise_if_any()
    path = rotated(str(file), str(rotation), dt.date.fromisoformat(str(day)))
    if key_column is None:
        return Row(path, tuple(header), tuple(lines), key, keyed=False), data
    keyed = tuple((*line, Cell("text", key)) for line in lines)
    return Row(path, (*header, str(key_column)), keyed, key), data


def _file(value: object, extension: str, problems: Problems) -> str | None:
    file = text(value, "/file", "file", FILE_LIMIT, problems, keeper="ledgerlink")
    if file is None:
        return None
    path = PurePosixPath(file)
    if path.is_absolute() or ".." in path.parts or "\\" in file or not file.strip():
        problems.add("/file", f"{file!r} must be a path inside the connection's folder: relative, "
                              f"without '..'")
        return None
    if path.suffix.lower() != extension:
        problems.add("/file", f"{file!r} must end in {extension}")
        return None
    return file


def _columns(raw: object, at: str, currency: str | None,
             problems: Problems) -> tuple[list[str], list[Cell]]:
    header: list[str] = []
    cells: list[Cell] = []
    if not isinstance(raw, list) or not raw:
        problems.add(at, f"must be a non-empty array of columns, got {show(raw)}")
        return header, cells
    for index, column in enumerate(raw):
        where = f"{at}/{index}"
        if not isinstance(column, Mapping) or not isinstance(column.get("name"), str) or not column["name"]:
            problems.add(where, "a column is an object with a name and a value")
            continue
        if column["name"] in header:
            problems.add(f"{where}/name", f"{column['name']!r} names an earlier column too")
        header.append(column["name"])
        cell = _cell(column, where, currency, problems)
        cells.append(cell if cell is not None else Cell("text", None))
    return header, cells


def _cell(column: Mapping[str, Any], where: str, currency: str | None, problems: Problems) -> Cell | None:
    kind, value = column.get("type", "text"), column.get("value")
    if kind not in TYPES:
        problems.add(f"{where}/type", f"must be one of {', '.join(TYPES)}, got {show(kind)}")
        return None
    what = f"column {column['name']!r}"
    if "format" in column and kind != "date":
        problems.add(f"{where}/format", f"{what}: format is for a date column")
    if "negate" in column and (kind in ("text", "date") or not isinstance(column["negate"], bool)):
        problems.add(f"{where}/negate", f"{what}: negate is true or false, on a money or number column")
    if value is None:
        return Cell(kind, None)
    if kind == "text":
        if isinstance(value, (float, bool)) or not isinstance(value, (str, int, Decimal)):
            problems.add(f"{where}/value", f"{what} must be a string, got {show(value)}")
            return None
        written = text(neutralised(str(value)), f"{where}/value", what, CELL_LIMIT, problems,
                       keeper="a spreadsheet")
        return None if written is None else Cell("text", written)
    if kind == "date":
        day = date(value, f"{where}/value", problems)
        shown = column.get("format", "iso")
        if shown not in DATE_FORMATS:
            problems.add(f"{where}/format", f"must be one of {', '.join(DATE_FORMATS)}, got {show(shown)}")
            return None
        return None if day is None else Cell("date", dt.date.fromisoformat(day), shown=shown)
    read = amount(value, f"{where}/value", what, problems, sign="any")
    if read is not None and column.get("negate") is True:
        read = abs(read) if read == 0 else -read
    if kind == "number" or read is None:
        return None if read is None else Cell("number", read)
    code = column.get("currency", currency)
    if not is_currency(code):
        problems.add(f"{where}/currency", f"{what} is money: give its currency here or the input's "
                                          f"currency, an ISO 4217 code, got {show(code)}")
        return None
    code = str(code).upper()
    fitted = fit_currency(read, code, f"{where}/value", what, problems, ledger="a spreadsheet")
    return None if fitted is None else Cell("money", fitted, exponent(code))


def row_id(path: str, key: str) -> str:
    """The id of the rows a step wrote: its file and the run's key, ``FILE#KEY``."""
    return f"{path}#{key}"


def booked(amounts: list[Decimal]) -> Decimal:
    """What a step's rows book: one row's amount as written; several (a journal), the total
    of their positive amounts (its debits)."""
    return amounts[0] if len(amounts) == 1 else sum((a for a in amounts if a > 0), Decimal(0))


def _named(header: tuple[str, ...], names: tuple[str, ...]) -> int | None:
    return next((header.index(name) for name in names if name in header), None)


def entry(extension: str, options: tuple[str, ...]) -> Any:
    """An append action's ``entry(input, output)`` (see the module's docstring); None for an
    input no step could have written."""
    def read(data: Mapping[str, Any], output: Mapping[str, Any]) -> Entry | None:
        try:
            row, _ = read_row("entry", data, "", extension, options)
        except LedgerlinkError:
            return None
        money = _named(row.header, AMOUNT_COLUMNS)
        if money is None:
            money = next((i for i, cell in enumerate(row.lines[0]) if cell.kind == "money"), None)
        dated = _named(row.header, DATE_COLUMNS)
        first = data["columns"] if "columns" in data else data["rows"][0]
        day = row.lines[0][dated].value if dated is not None else None
        amounts = [cells[money].value for cells in row.lines] if money is not None else []
        values = [a for a in amounts if isinstance(a, Decimal)]
        currency = (first[money].get("currency") if money is not None else None) or data.get("currency")
        return Entry(date=day.isoformat() if isinstance(day, dt.date) else str(data["date"]),
                     amount=booked(values) if values else None,
                     currency=str(currency).upper() if currency else None)
    return read
