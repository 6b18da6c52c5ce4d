"""The files connection as one side of ``ledgerlink reconcile``: the rows of a period.

Every CSV file of the folders a connection names (``reconcile_folders``, relative to its
folder; rotation names such as ``stripe-usd-statement-2023-09.csv`` are simply files there)
is read through the host's file effects (:class:`~ledgerlink.contract.ListFolder`, then
:class:`~ledgerlink.contract.ReadFile` under the writers' lock), so this module stays sans-I/O.
Each row dated in the period is one neutral :class:`~ledgerlink.contract.reconcile.Record`:

- its date from the layout's date column (``Date`` or ``*Date``), read in the folder's
  ``date_format`` (iso, mm/dd/yyyy or dd/mm/yyyy: the layouts' one format a file);
- its amount (``Amount`` or ``*Amount``) in the currency's minor units, signed as written;
- its currency from a ``Currency`` column, else the folder's ``currency``, else the ISO 4217
  code in the file's name (``stripe-usd-statement``);
- its kind from a ``Kind`` column when the layout has one, ``journal`` for a journal layout
  (an account code column), else read from its description (a payout, a refund, a fee, else
  a payment);
- its id: the run's key when the file has a key column (``ledgerlink_key``); else its content,
  ``file|date|amount|description``, with ``#2``, ``#3`` … for a second and third row of the
  same content: a row copied by hand is a second occurrence, a row edited by hand a content
  no run wrote, a row deleted by hand a content no longer found.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Generator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink.contract import ActionContext, FileResult, ListFolder, ReadFile, exponent, is_currency
from ledgerlink.contract.reconcile import Listing, Reconcile, Record

from .rows import KEY_COLUMN

DATES = ("Date", "*Date")
AMOUNTS = ("Amount", "*Amount")
DESCRIPTIONS = ("Description", "*Narration", "Payee", "Reference")
#: a row's kind by the words of its description, first match wins
WORDS = (("payout", "payout"), ("refund", "refund"), ("fee", "fee"))
FORMATS = {"iso": "%Y-%m-%d", "mm/dd/yyyy": "%m/%d/%Y", "dd/mm/yyyy": "%d/%m/%Y"}
ENTITY = "row"


def folders(settings: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The folders a connection reconciles (``reconcile_folders``; default its folder itself)."""
    named = settings.get("reconcile_folders") or [{"path": "."}]
    return [item if isinstance(item, Mapping) else {"path": str(item)} for item in named]


def _cell(header: Sequence[str], line: Sequence[str], names: Sequence[str]) -> str | None:
    for name in names:
        if name in header and header.index(name) < len(line):
            return line[header.index(name)]
    return None


def _currency(file: str, header: Sequence[str], line: Sequence[str], folder: Mapping[str, Any]) -> str:
    code = _cell(header, line, ("Currency",)) or folder.get("currency")
    if not code:
        code = next((token for token in re.split(r"[^A-Za-z]+", file.rsplit("/", 1)[-1])
                     if len(token) == 3 and is_currency(token.upper())), "")
    return str(code).upper()


def _kind(header: Sequence[str], line: Sequence[str], label: str) -> str:
    given = (_cell(header, line, ("Kind",)) or "").strip().lower()
    if given:
        return given
    if "*AccountCode" in header or "AccountCode" in header:
        return "journal"
    words = label.lower()
    return next((kind for word, kind in WORDS if word in words), "payment")


def rows_of(file: str, content: bytes, folder: Mapping[str, Any], since: str, until: str) -> list[Record]:
    """The records of one CSV file's rows dated in ``[since, until]``; a file that is not a
    ledger layout (no date or amount column) lists nothing."""
    try:
        lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return []
    if not lines or not any(n in lines[0] for n in DATES) or not any(n in lines[0] for n in AMOUNTS):
        return []
    header, shape = lines[0], FORMATS.get(str(folder.get("date_format", "iso")), FORMATS["iso"])
    keyed = header[-1] == KEY_COLUMN
    seen: dict[str, int] = {}
    found: list[Record] = []
    for line in lines[1:]:
        try:
            day = dt.datetime.strptime(_cell(header, line, DATES) or "", shape).date().isoformat()
            written = Decimal((_cell(header, line, AMOUNTS) or "").strip())
        except (ValueError, InvalidOperation):
            continue  # a line no importer would read either: not a row of the ledger
        if not since <= day <= until:
            continue
        currency = _currency(file, header, line, folder)
        digits = exponent(currency) if is_currency(currency) else 2
        label = _cell(header, line, DESCRIPTIONS) or ""
        content = f"{file}|{day}|{written}|{label}"
        seen[content] = seen.get(content, 0) + 1
        ident = line[-1] if keyed and line else content + (f"#{seen[content]}" if seen[content] > 1 else "")
        found.append(Record(kind=_kind(header, line, label), id=ident,
                            amount=int(written.scaleb(digits).to_integral_value()), currency=currency,
                            date=day, entity=ENTITY, label=label))
    return found


def records(since: str, until: str, cursor: str | None,
            ctx: ActionContext) -> Generator[Any, Any, Listing]:
    """One page: the rows of one folder's CSV files; the cursor is the next folder's index."""
    named = folders(ctx.connection.settings)
    index = int(cursor or 0)
    folder = named[index]
    path = str(folder.get("path", "."))
    listed: FileResult = yield ListFolder(path)
    found: list[Record] = []
    for entry in sorted(listed.entries, key=lambda e: e.name):
        if not entry.name.lower().endswith(".csv"):
            continue
        file = entry.name if path in (".", "") else f"{path.rstrip('/')}/{entry.name}"
        read: FileResult = yield ReadFile(file)
        if read.status == "read":
            found += rows_of(file, read.content, folder, since, until)
    return Listing(found, str(index + 1) if index + 1 < len(named) else None)


RECONCILE = Reconcile(records=records, kinds=("payment", "refund", "fee", "payout", "journal"))
