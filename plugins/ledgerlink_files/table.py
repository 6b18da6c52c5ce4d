"""A ledger file as ``ledgerlink reconcile`` reads it: its header, and each line's cells and,
in a CSV file, its exact bytes (which the host's journal beside the file names by SHA-256).

A CSV file is split into its records as the csv module reads them (a field quoted over
several lines is one record), each kept with the bytes it was read from, line end and a
byte-order mark included, so the bytes of a record ledgerlink appended hash as the journal
recorded them. A workbook's first sheet is read with openpyxl, read-only, its cells as text
(a date as YYYY-MM-DD, a number as its digits).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: one line of text and its line end (CRLF, LF or CR), or a last line without one
PIECES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+\Z")


@dataclass(frozen=True)
class Line:
    """One record of a file: its cells, and the bytes it was read from (a CSV file's)."""

    cells: tuple[str, ...]
    raw: bytes = b""


@dataclass(frozen=True)
class Table:
    """A file's header (its first record) and the records after it."""

    header: tuple[str, ...]
    lines: tuple[Line, ...]
    #: the header's bytes (a CSV file's; an append to an empty file wrote them first)
    header_raw: bytes = b""
    #: whether the cells were typed (a workbook: dates read as YYYY-MM-DD)
    typed: bool = False


def csv_table(content: bytes) -> Table | None:
    """The records of a UTF-8 CSV file with their bytes; None when it is not one, or empty."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    pieces = PIECES.findall(text)
    taken: list[str] = []

    def feed() -> Iterator[str]:
        for piece in pieces:
            taken.append(piece)
            yield piece

    lines: list[Line] = []
    try:
        for cells in csv.reader(feed()):
            lines.append(Line(tuple(cells), "".join(taken).encode("utf-8")))
            taken.clear()
    except csv.Error:
        return None
    if not lines:
        return None
    header = list(lines[0].cells)
    if header:
        header[0] = header[0].removeprefix("\ufeff")
    return Table(tuple(header), tuple(lines[1:]), header_raw=lines[0].raw)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def workbook_table(content: bytes) -> Table | None:
    """The rows of a workbook's first sheet as text; None when it is not a workbook, or empty."""
    # openpyxl (13 MB, 200 modules) loads when a workbook is read, not with the plugin
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        return None
    try:
        rows = [tuple(_text(value) for value in row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    if not rows:
        return None
    return Table(rows[0], tuple(Line(row) for row in rows[1:]), typed=True)
