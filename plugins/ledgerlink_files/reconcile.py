"""The files connection as one side of ``ledgerlink reconcile``: the rows of a period.

Every CSV file and workbook of the folders a connection names (``reconcile_folders``,
relative to its folder; rotated names such as ``stripe-usd-statement-2023-09.csv`` are
files there like any other) is read through the host's file effects
(:class:`~ledgerlink.contract.ListFolder`, then :class:`~ledgerlink.contract.ReadFile` under
the writers' lock, a CSV file's with the journal beside it), so this module stays sans-I/O.

A step's rows are one :class:`~ledgerlink.contract.reconcile.Record`, of id ``FILE#KEY``, what
``files.append_csv`` and ``files.append_xlsx`` name as their output's id
(:func:`~ledgerlink_files.rows.row_id`): found in a CSV file by the journal
(:mod:`.journaled`: by their bytes' SHA-256 where they are untouched, by their place when
edited), or by the key column (``ledgerlink_key``; a workbook's only way). Its date is its
first row's, its amount the row's (a journal's rows: their positive amounts, its debits), as
the actions' ``entry`` books them. Every other row dated in the period is a person's, one
record of id ``file|date|amount|description`` (``#2``, ``#3`` … for a second and third row of
that content). Hence, compared with the run log: a row edited by hand is its step's record
with another amount or date; a row deleted, a step with no record (``missing``); a row added,
a record no run made (``not_linked``), or ``duplicated`` when it repeats a step's row.

A row's date is its ``Date`` or ``*Date`` column, read in the folder's ``date_format`` (iso,
mm/dd/yyyy or dd/mm/yyyy; a workbook's date cells are dates); its amount, ``Amount`` or
``*Amount`` in the currency's minor units, signed as written; its currency a ``Currency``
column, else the folder's ``currency``, else the ISO 4217 code in the file's name
(``stripe-usd-statement``); its kind a ``Kind`` column, else ``journal`` for a layout with
an account code, else read from its description (a payout, a refund, a fee, else a payment).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink.contract import ActionContext, FileResult, ListFolder, ReadFile, exponent, is_currency
from ledgerlink.contract.reconcile import Listing, Reconcile, Record

from .csv_file import NAME as APPEND_CSV
from .journaled import claimed
from .rows import AMOUNT_COLUMNS, DATE_COLUMNS, KEY_COLUMN, booked, row_id
from .table import Line, Table, csv_table, workbook_table
from .xlsx_file import NAME as APPEND_XLSX

DESCRIPTIONS = ("Description", "*Narration", "Payee", "Reference")
#: a row's kind by the words of its description, first match wins
WORDS = (("payout", "payout"), ("refund", "refund"), ("fee", "fee"))
FORMATS = {"iso": "%Y-%m-%d", "mm/dd/yyyy": "%m/%d/%Y", "dd/mm/yyyy": "%d/%m/%Y"}
#: the entity of every record: the rows a step wrote, or a row of a person's
ENTITY = "row"


@dataclass(frozen=True)
class Row:
    """One line of a ledger layout, read."""

    day: str
    written: Decimal
    currency: str
    label: str
    kind: str


def folders(settings: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The folders a connection reconciles (``reconcile_folders``; default its folder itself)."""
    named = settings.get("reconcile_folders") or [{"path": "."}]
    return [item if isinstance(item, Mapping) else {"path": str(item)} for item in named]


def _cell(header: Sequence[str], cells: Sequence[str], names: Sequence[str]) -> str | None:
    for name in names:
        if name in header and header.index(name) < len(cells):
            return cells[header.index(name)]
    return None


def _currency(file: str, header: Sequence[str], cells: Sequence[str], folder: Mapping[str, Any]) -> str:
    code = _cell(header, cells, ("Currency",)) or folder.get("currency")
    if not code:
        code = next((token for token in re.split(r"[^A-Za-z]+", file.rsplit("/", 1)[-1])
                     if len(token) == 3 and is_currency(token.upper())), "")
    return str(code).upper()


def _kind(header: Sequence[str], cells: Sequence[str], label: str) -> str:
    given = (_cell(header, cells, ("Kind",)) or "").strip().lower()
    if given:
        return given
    if "*AccountCode" in header or "AccountCode" in header:
        return "journal"
    words = label.lower()
    return next((kind for word, kind in WORDS if word in words), "payment")


def _read(file: str, table: Table, line: Line, folder: Mapping[str, Any]) -> Row | None:
    """The line as a ledger's row; None for a line no importer would read (no date, no amount)."""
    shape = FORMATS.get(str(folder.get("date_format", "iso")), FORMATS["iso"])
    text = (_cell(table.header, line.cells, DATE_COLUMNS) or "").strip()
    try:
        shapes = (FORMATS["iso"], shape) if table.typed else (shape,)
        day = next((d for d in (_day(text, s) for s in shapes) if d), None)
        written = Decimal((_cell(table.header, line.cells, AMOUNT_COLUMNS) or "").strip())
    except InvalidOperation:
        return None
    if day is None or not written.is_finite():
        return None
    label = _cell(table.header, line.cells, DESCRIPTIONS) or ""
    return Row(day, written, _currency(file, table.header, line.cells, folder), label,
               _kind(table.header, line.cells, label))


def _day(text: str, shape: str) -> str | None:
    try:
        return dt.datetime.strptime(text, shape).date().isoformat()
    except ValueError:
        return None


def _minor(written: Decimal, currency: str) -> int:
    return int(written.scaleb(exponent(currency) if is_currency(currency) else 2).to_integral_value())


def rows_of(file: str, table: Table, groups: Mapping[str, list[int]], folder: Mapping[str, Any],
            since: str, until: str) -> list[Record]:
    """The records of one file dated in ``[since, until]``: each step's rows (``groups``: key →
    line indices), then every other line a person's; a file without a date and an amount
    column is no ledger and lists nothing."""
    if not any(n in table.header for n in DATE_COLUMNS) or not any(n in table.header for n in AMOUNT_COLUMNS):
        return []
    read = [_read(file, table, line, folder) for line in table.lines]
    found: list[Record] = []
    owned: set[int] = set()
    for key, indices in groups.items():
        owned.update(indices)
        rows = [read[i] for i in indices if read[i] is not None]
        if not rows or not since <= rows[0].day <= until:
            continue
        first = rows[0]
        found.append(Record(kind=first.kind, id=row_id(file, key), amount=_minor(booked([r.written for r in rows]),
                                                                                  first.currency),
                            currency=first.currency, date=first.day, entity=ENTITY, label=first.label))
    seen: dict[str, int] = {}
    for index, row in enumerate(read):
        if row is None:
            continue
        content = f"{file}|{row.day}|{row.written}|{row.label}"
        seen[content] = seen.get(content, 0) + 1
        if index in owned or not since <= row.day <= until:
            continue
        found.append(Record(kind=row.kind, id=content + (f"#{seen[content]}" if seen[content] > 1 else ""),
                            amount=_minor(row.written, row.currency), currency=row.currency, date=row.day,
                            entity=ENTITY, label=row.label))
    return found


def read_file(file: str) -> Generator[Any, Any, tuple[Table, dict[str, list[int]]] | None]:
    """A file of the folder as a table and each step's lines in it; None when it is no table."""
    if file.lower().endswith(".csv"):
        read: FileResult = yield ReadFile(file, journal=True)
        table = csv_table(read.content) if read.status == "read" else None
        return None if table is None else (table, claimed(table, read.journal, KEY_COLUMN))
    read = yield ReadFile(file)
    table = workbook_table(read.content) if read.status == "read" else None
    return None if table is None else (table, claimed(table, (), KEY_COLUMN))


def records(since: str, until: str, cursor: str | None,
            ctx: ActionContext) -> Generator[Any, Any, Listing]:
    """One page: the rows of one folder's files; the cursor is the next folder's index."""
    named = folders(ctx.connection.settings)
    index = int(cursor or 0)
    folder = named[index]
    path = str(folder.get("path", "."))
    listed: FileResult = yield ListFolder(path)
    found: list[Record] = []
    for entry in sorted(listed.entries, key=lambda e: e.name):
        if not entry.name.lower().endswith((".csv", ".xlsx")):
            continue
        file = entry.name if path in (".", "") else f"{path.rstrip('/')}/{entry.name}"
        read = yield from read_file(file)
        if read is not None:
            found += rows_of(file, read[0], read[1], folder, since, until)
    return Listing(found, str(index + 1) if index + 1 < len(named) else None)


RECONCILE = Reconcile(records=records, entities={APPEND_CSV: ENTITY, APPEND_XLSX: ENTITY},
                      kinds=("payment", "refund", "fee", "payout", "journal"))
