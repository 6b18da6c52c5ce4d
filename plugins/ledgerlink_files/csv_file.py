"""``files.append_csv``: one row per run (or a journal's rows) appended to a CSV file, exactly once.

The file is written as RFC 4180 describes (comma-separated, fields quoted when they need it,
lines ended by CRLF), in UTF-8, with a byte-order mark first when the input sets ``bom``
(Excel reads UTF-8 without one as the machine's legacy code page). The header line is
written by the host with the first row, under the file's lock, so two writers never both
write it (:class:`ledgerlink.contract.AppendFile`'s ``header``).

Exactly once, twice over: the host keeps a journal of the keys it appended beside the file;
and the file is the ledger, each row carrying the run's idempotency key in its last column.
A step first reads the file (under the writers' lock, :class:`ledgerlink.contract.ReadFile`)
and writes nothing when a row already holds its key — also when the journal was lost. With
``key_column`` null the rows carry no key and the journal alone keeps them written once.

A row cannot be taken back from a file an importer or an accountant may already have read:
the action declares no undo. A reversal is booked as a row of its own, by the recipe of the
event that reverses it (a refund, a credit note).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, AppendFile, FileResult, ReadFile
from ledgerlink.errors import FileEffectError
from ledgerlink_files.rows import Row, entry, input_schema, read_row, row_id

NAME = "files.append_csv"
BOM = "\ufeff"

OUTPUT = {
    "type": "object",
    "required": ["path", "key", "status"],
    "properties": {
        "id": {"type": "string", "description": "The rows' id, FILE#KEY: what ledgerlink export names as its "
                                                "ledger id and ledgerlink reconcile finds again (a workbook "
                                                "without the ledgerlink_key column names none)."},
        "path": {"type": "string", "description": "The file the row is in, relative to the folder."},
        "key": {"type": "string", "description": "The run's idempotency key: the row's last cell."},
        "status": {"type": "string", "enum": ["appended", "already_applied"],
                   "description": "appended, or already_applied: an earlier attempt of this step "
                                  "wrote the row, and nothing was written now."},
    },
}

INPUT = input_schema(".csv", {
    "bom": {"type": "boolean", "description": "Start a new file with a UTF-8 byte-order mark, as "
                                              "Excel needs to read it as UTF-8 (default false)."},
})

SAMPLE = {
    "file": "stripe/payments.csv", "rotation": "monthly", "date": "2026-01-31", "currency": "USD",
    "bom": True,
    "columns": [{"name": "Date", "value": "2026-01-31", "type": "date"},
                {"name": "Amount", "value": "-12.50", "type": "money"},
                {"name": "Payee", "value": "=HYPERLINK(\"x\")"},
                {"name": "Reference", "value": "in_1"}],
}


def line(cells: list[str] | tuple[str, ...]) -> str:
    """One CSV record, CRLF included."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def records(content: bytes, path: str) -> list[list[str]]:
    """The records of a CSV file as this action writes it (a BOM first or not)."""
    try:
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileEffectError(f"{path!r} is not a UTF-8 CSV file ({exc}); name another file") from None


def row_of(content: bytes, row: Row) -> list[str] | None:
    """The record of ``content`` holding ``row.key`` in its key column, or None.

    FileEffectError (permanent) when the file's header is not the row's: a recipe that
    changes its columns writes to a new file (rotation, or another name) instead of
    mixing layouts an importer would misread."""
    found = records(content, row.path)
    if not found:
        return None
    if tuple(found[0]) != row.header:
        raise FileEffectError(f"{row.path!r} has the columns {found[0]}, this step writes {list(row.header)}; "
                              f"a file keeps one layout: name another file")
    if not row.keyed:  # no key column: the host's journal alone knows which rows were written
        return None
    return next((record for record in found[1:] if record[-1:] == [row.key]), None)


def _output(row: Row, status: str) -> dict[str, Any]:
    return {"id": row_id(row.path, row.key), "path": row.path, "key": row.key, "status": status}


def perform(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Any, dict[str, Any]]:
    """Read the file for the key; append the row (after the header, in a new file) if absent."""
    row, _ = read_row(NAME, data, ctx.idempotency_key, ".csv", ("bom",))
    current: FileResult = yield ReadFile(row.path)
    if row_of(current.content, row) is not None:
        return _output(row, "already_applied")
    header = (BOM if data.get("bom") else "") + line(row.header)
    record = "".join(line([cell.as_text() for cell in cells]) for cells in row.lines)
    result: FileResult = yield AppendFile(row.path, record, ctx.idempotency_key, header=header)
    return _output(row, result.status)


def find_existing(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Any, dict[str, Any] | None]:
    """The row an earlier attempt of this step wrote (its key in the key column), or None."""
    row, _ = read_row(NAME, data, ctx.idempotency_key, ".csv", ("bom",))
    current: FileResult = yield ReadFile(row.path)
    return _output(row, "already_applied") if row_of(current.content, row) is not None else None


APPEND_CSV = Action(
    name=NAME,
    summary="Appends one row to a CSV file, exactly once; the header written with the first row.",
    input_schema=INPUT, output_schema=OUTPUT, sample=SAMPLE,
    sample_response={"id": "stripe/payments-2026-01.csv#sample-key", "path": "stripe/payments-2026-01.csv",
                     "key": "sample-key", "status": "appended"},
    perform=perform, find_existing=find_existing, undo=None, entry=entry(".csv", ("bom",)),
)
