"""``ledgerlink export``: what passed through, one row per thing booked, as CSV or xlsx.

Read from the run log and the links (:meth:`ledgerlink.store.Store.booked_steps`): every
step that succeeded with an id in its ledger (an invoice, a payment, a credit note, a
refund, a fee, a payout, a customer …), of the runs planned between two dates and not
undone. Each row says when, what (the recipe's step id: ``invoice``, ``payment``, ``fee``),
how much, where it is booked (the connection and the ledger's id), and what it came from
(the source connection, the source object's id, the event, the recipe and the run), for an
audit or a manual import. The amount is read by the action's :attr:`~ledgerlink.contract.Action.entry`
from the step's logged input and output; an action that declares none leaves it empty.

Values are exact: amounts are the Decimals the steps booked (in a workbook, numbers with the
currency's decimals while a double holds them exactly, text beyond:
:mod:`ledgerlink.contract.cells`); text cells a spreadsheet would run as a formula are
neutralised. Both formats are streamed: CSV a row at a time, a workbook (a zip archive, whole
only at its end) from a temporary file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import Entry
from ledgerlink.contract.cells import exact_as_number, neutralised, number_format
from ledgerlink.contract.money import exponent, is_currency
from ledgerlink.errors import InvalidRequest

COLUMNS = ("date", "kind", "amount", "currency", "ledger", "ledger_id", "action", "source", "source_id",
           "event_id", "trigger", "recipe", "recipe_version", "run")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: bytes of a workbook sent at a time
CHUNK = 64 * 1024


def day_range(since: str | None, until: str | None, today: dt.date) -> tuple[float, float]:
    """``[since, until]`` (whole UTC days, YYYY-MM-DD; ``until`` defaults to ``today``) as
    ``[start, end)`` in Unix seconds; InvalidRequest naming the bad one."""
    def read(name: str, value: str | None) -> dt.date:
        try:
            if value is None or len(value) != 10:
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidRequest(f"{name} must be a date written YYYY-MM-DD, got {value!r}") from None

    first = read("since", since)
    last = read("until", until) if until is not None else today
    if last < first:
        raise InvalidRequest(f"until ({last}) is before since ({first})")
    start = dt.datetime.combine(first, dt.time(), dt.timezone.utc).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.timezone.utc).timestamp()
    return start, end


def _steps_of(body: str) -> dict[str, tuple[str, str]]:
    """step id → (action, connection) of a stored recipe version."""
    recipe = jsonio.loads(body)
    default = recipe.get("connection", "")
    return {step.get("id", ""): (step.get("action", ""), step.get("connection", default))
            for step in recipe.get("steps", []) if isinstance(step, Mapping)}


def rows(store: Any, catalog: Any, start: float, end: float) -> Iterator[dict[str, Any]]:
    """One row per booked step of the runs planned in ``[start, end)``, oldest first."""
    recipes: dict[tuple[str, int], dict[str, tuple[str, str]]] = {}
    for step in store.booked_steps(start, end):
        version = (step["recipe_id"], step["recipe_version"])
        if version not in recipes:
            stored = store.recipe_version(*version)
            recipes[version] = _steps_of(stored["body"]) if stored else {}
        action_name, connection = recipes[version].get(step["step_id"], ("", ""))
        action = catalog.actions.get(action_name)
        entry: Entry | None = None
        if action is not None and action.entry is not None:
            entry = action.entry(step.get("input") or {}, step.get("output") or {})
        planned = dt.datetime.fromtimestamp(step["created_at"], dt.timezone.utc).date().isoformat()
        yield {"date": (entry.date if entry and entry.date else planned), "kind": step["step_id"],
               "amount": entry.amount if entry else None, "currency": entry.currency if entry else None,
               "ledger": connection or step.get("target_connection") or "", "ledger_id": step["external_id"],
               "action": action_name, "source": step["connection"], "source_id": step.get("source_id") or "",
               "event_id": step["event_id"], "trigger": step["trigger"], "recipe": step["recipe_id"],
               "recipe_version": step["recipe_version"], "run": step["run_id"]}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return neutralised(str(value))


def as_csv(found: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """RFC 4180 CSV in UTF-8, a header line first, a chunk per row."""
    def line(cells: Iterable[Any]) -> bytes:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(list(cells))
        return out.getvalue().encode("utf-8")

    yield line(COLUMNS)
    for row in found:
        yield line(_text(row[column]) for column in COLUMNS)


def as_xlsx(found: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """An Excel workbook (one sheet, ``Export``), typed cells, in chunks."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    sheet.append(list(COLUMNS))
    for row in found:
        cells = []
        for column in COLUMNS:
            value = row[column]
            if column == "date" and value:
                cell = WriteOnlyCell(sheet, value=dt.date.fromisoformat(value))
                cell.number_format = "yyyy-mm-dd"
            elif column == "amount" and isinstance(value, Decimal) and exact_as_number(value):
                cell = WriteOnlyCell(sheet, value=value)
                if is_currency(row["currency"]):
                    cell.number_format = number_format(exponent(str(row["currency"]).upper()))
            elif column == "run" or column == "recipe_version":
                cell = WriteOnlyCell(sheet, value=value)
            else:
                cell = WriteOnlyCell(sheet, value=_text(value))
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk


def export(store: Any, catalog: Any, start: float, end: float, kind: str) -> Iterator[bytes]:
    """The export of ``[start, end)`` in ``kind`` (csv or xlsx), as chunks of bytes."""
    if kind not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}, got {kind!r}")
    found = rows(store, catalog, start, end)
    return as_csv(found) if kind == "csv" else as_xlsx(found)
