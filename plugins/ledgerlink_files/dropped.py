"""``files.csv_dropped``: a CSV file dropped in a watched folder becomes one event per row.

Driven by the host's poll loop (the connector's :class:`~ledgerlink.contract.Poll`; the
connection sets ``watch_folder`` and ``poll_seconds``), with no thread of its own. Each poll:

1. puts away the files the previous poll read, whose events the host stored together with
   the cursor that names them: into ``done/``, or into ``failed/`` with a report naming the
   bad rows (``failed/NAME.report.txt``). Moved after their events are stored, never
   before, so a crash in between loses no row; a move repeated after a crash finds the file
   gone. A name already taken in ``done/`` or ``failed/`` gets the file's digest added;
2. lists the folder's ``.csv`` files and reads each whose size and modification time are
   the same as at the previous poll: a file still being written is never read (a writer
   that renames the finished file into place is read at the poll after it appeared);
3. turns each row of a readable file into an event: ``columns`` maps the header's names to
   the row's fields (the recipe maps them onward, e.g. ``$.event.columns.Amount``). A file
   with a bad row (a field count other than the header's) gives no event at all, and goes
   to ``failed/``; fixed and dropped again, it is read again.

Each row once, even if the file is dropped again: the event's id and its occurrence are the
SHA-256 of the row's header and fields (and its rank among identical rows of the file, so
two identical lines stay two events, and the same file dropped twice gives the same ids).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Generator
from pathlib import PurePosixPath
from typing import Any

from ledgerlink import jsonio
from ledgerlink.contract import (ActionContext, FileResult, IncomingEvent, ListFolder, MoveFile, Poll,
                                 ReadFile, Trigger, WriteFile)

NAME = "files.csv_dropped"
#: the connection setting naming the watched folder
WATCH = "watch_folder"


def _described(description: str, **schema: Any) -> dict[str, Any]:
    return {**schema, "description": description}


EVENT = {
    "type": "object",
    "required": ["id", "file", "line", "columns", "row_hash"],
    "properties": {
        "id": _described("The event's id: the trigger's name and the row's hash.", type="string"),
        "file": _described("The file's name in the watched folder.", type="string"),
        "line": _described("The row's record number in the file (the header is 1).", type="integer"),
        "columns": _described("The header's names, each with the row's field.", type="object",
                              additionalProperties={"type": "string"}),
        "row_hash": _described("SHA-256 of the header, the fields and the rank among identical rows: the "
                               "occurrence.", type="string"),
    },
}

SAMPLE = {"id": "files.csv_dropped:" + "0" * 64, "file": "payments.csv", "line": 2,
          "columns": {"Date": "2026-01-31", "Amount": "12.50", "Reference": "INV-1"}, "row_hash": "0" * 64}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rows_of(name: str, content: bytes) -> tuple[list[IncomingEvent], list[str]]:
    """The events of a file's rows, and its problems (each naming the bad row); no event
    when there is a problem."""
    try:
        records = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError as exc:
        return [], [f"the file is not UTF-8 (byte {exc.start}); save it as CSV UTF-8"]
    except csv.Error as exc:
        return [], [f"the file is not CSV: {exc}"]
    numbered = [(line, record) for line, record in enumerate(records, start=1) if record]
    if not numbered:
        return [], ["the file is empty: a header and rows were expected"]
    (_, header), body = numbered[0], numbered[1:]
    problems = []
    if len(set(header)) != len(header) or any(not name.strip() for name in header):
        problems.append(f"line 1: the header {header} has an empty or repeated name")
    events: list[IncomingEvent] = []
    seen: dict[str, int] = {}
    for line, record in body:
        if len(record) != len(header):
            problems.append(f"line {line}: {len(record)} fields, the header has {len(header)}")
            continue
        fields = jsonio.dumps([header, record])
        seen[fields] = seen.get(fields, 0) + 1
        row_hash = _sha256(f"{fields}#{seen[fields]}".encode("utf-8"))
        event_id = f"{NAME}:{row_hash}"
        events.append(IncomingEvent(id=event_id, trigger=NAME, payload={
            "id": event_id, "file": name, "line": line, "columns": dict(zip(header, record)), "row_hash": row_hash}))
    return ([] if problems else events), problems


def report(name: str, problems: list[str]) -> str:
    """What ``failed/NAME.report.txt`` says."""
    return (f"{name}: no row of this file was taken, because of {len(problems)} problem(s) below. Fix them "
            f"and drop the file again: rows already taken are not taken twice.\n"
            + "".join(f"{problem}\n" for problem in problems))


def _put_away(name: str, digest: str, into: str) -> Generator[Any, Any, str]:
    """Move ``name`` into ``into``/ (its digest added when the name is taken); the new name."""
    path = PurePosixPath(name)
    for candidate in (name, f"{path.stem}.{digest[:16]}{path.suffix}", f"{path.stem}.{digest}{path.suffix}"):
        moved: FileResult = yield MoveFile(name, f"{into}/{candidate}", folder_setting=WATCH)
        if moved.status != "exists":
            return candidate
    return name  # the same content is there under every name: it stays to be looked at


def poll(cursor: str | None, ctx: ActionContext) -> Generator[Any, Any, tuple[list[IncomingEvent], str]]:
    """One look at the watched folder (see the module's docstring)."""
    state = jsonio.loads(cursor) if cursor else {}
    for name, digest in state.get("done", {}).items():
        yield from _put_away(name, digest, "done")
    for name, (digest, text) in state.get("failed", {}).items():
        moved = yield from _put_away(name, digest, "failed")
        yield WriteFile(f"failed/{moved}.report.txt", text, f"report:{name}:{digest}", folder_setting=WATCH)
    listing: FileResult = yield ListFolder(".", folder_setting=WATCH)
    earlier = state.get("looked", {})
    looked: dict[str, list[int]] = {}
    events: list[IncomingEvent] = []
    done: dict[str, str] = {}
    failed: dict[str, list[str]] = {}
    for entry in listing.entries:
        if not entry.name.lower().endswith(".csv"):
            continue
        size = [entry.size, entry.mtime_ns]
        if earlier.get(entry.name) != size:  # new, or changed since the last look: look again
            looked[entry.name] = size
            continue
        read: FileResult = yield ReadFile(entry.name, folder_setting=WATCH)
        if read.status != "read" or len(read.content) != entry.size:  # changed meanwhile
            continue
        found, problems = rows_of(entry.name, read.content)
        if problems:
            failed[entry.name] = [read.sha256, report(entry.name, problems)]
        else:
            events += found
            done[entry.name] = read.sha256
    return events, jsonio.dumps({"looked": looked, "done": done, "failed": failed})


CSV_DROPPED = Trigger(
    name=NAME,
    summary="A row of a CSV file dropped in the watched folder (one event per row, each row once).",
    event_schema=EVENT, sample=SAMPLE, source_id_path="$.row_hash", occurrence_path="$.row_hash",
)

WATCH_POLL = Poll(summary="Reads the CSV files dropped in the connection's watch_folder.", poll=poll,
                  min_seconds=1.0)
