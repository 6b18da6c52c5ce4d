"""files.csv_dropped against a real watched folder: a file is read once its size has held
still for a poll, a row is one event whose id is its content's hash, the file is put away
after its events are stored, and a file with bad rows goes to failed/ with a report."""

from __future__ import annotations

import hashlib
import json
import time


import ledgerlink_files
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import ActionContext, Connection, MoveFile
from ledgerlink.engine.fetching import poll as host_poll
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.io import files
from ledgerlink.store import Store
from ledgerlink.store.schema import cursors
from ledgerlink.testing.actions import poll
from ledgerlink.testing.databases import migrated_db
from files_helpers import csv_rows

def connector():
    found = []
    ledgerlink_files.ledgerlink_register_connectors(register=found.append)
    return found[0]


def look(watch, cursor):
    """One poll of the folder ``watch``, every effect performed for real."""
    settings = {"watch_folder": str(watch)}
    ctx = ActionContext(connection=Connection("drop", "files", settings), idempotency_key="")
    events, new_cursor, _ = poll(connector(), cursor, ctx, lambda effect: files.perform(effect, settings))
    return events, new_cursor


def visible(folder):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and p.is_file())


def test_a_file_is_read_once_it_held_still_then_put_away(tmp_path):
    (tmp_path / "payments.csv").write_text("Date,Amount,Reference\r\n2026-01-31,12.50,INV-1\r\n")
    events, cursor = look(tmp_path, None)
    assert events == []                                     # the first look only notes its size
    with open(tmp_path / "payments.csv", "a") as growing:   # still being written
        growing.write("2026-01-31,-3.20,INV-1 fee\r\n2026-02-01,12.50,INV-1\r\n")
    events, cursor = look(tmp_path, cursor)
    assert events == []
    events, cursor = look(tmp_path, cursor)                 # held still since the last look
    assert [(e.payload["line"], e.payload["columns"]) for e in events] == [
        (2, {"Date": "2026-01-31", "Amount": "12.50", "Reference": "INV-1"}),
        (3, {"Date": "2026-01-31", "Amount": "-3.20", "Reference": "INV-1 fee"}),
        (4, {"Date": "2026-02-01", "Amount": "12.50", "Reference": "INV-1"})]
    assert all(e.trigger == "files.csv_dropped" and e.id == f"files.csv_dropped:{e.payload['row_hash']}"
               for e in events)
    assert visible(tmp_path) == ["payments.csv"]           # not moved before its events are stored
    again, cursor = look(tmp_path, cursor)                  # the host stored them with that cursor
    assert again == [] and visible(tmp_path) == []
    assert csv_rows(tmp_path / "done" / "payments.csv")[1] == ["2026-01-31", "12.50", "INV-1"]
    assert look(tmp_path, cursor)[0] == []


def test_the_same_rows_dropped_again_are_the_same_events_and_two_equal_lines_stay_two(tmp_path):
    text = "Date,Amount\n2026-01-31,5.00\n2026-01-31,5.00\n2026-02-01,7.00\n"
    (tmp_path / "a.csv").write_text(text)
    _, cursor = look(tmp_path, None)
    first, cursor = look(tmp_path, cursor)
    _, cursor = look(tmp_path, cursor)                      # a.csv put away into done/
    (tmp_path / "a.csv").write_text(text)                   # dropped again
    _, cursor = look(tmp_path, cursor)
    second, cursor = look(tmp_path, cursor)
    assert len(first) == 3 and len({e.id for e in first}) == 3
    assert [e.id for e in second] == [e.id for e in first]
    look(tmp_path, cursor)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    assert visible(tmp_path / "done") == sorted(["a.csv", f"a.{digest}.csv"])  # the name was taken


def test_a_file_with_bad_rows_gives_no_event_and_goes_to_failed_with_a_report(tmp_path):
    (tmp_path / "bad.csv").write_text("Date,Amount\n2026-01-31,5.00\n2026-01-31\n\n2026-02-01,7.00,extra\n")
    (tmp_path / "latin.csv").write_bytes("Payee,Amount\nCaf\xe9,1.00\n".encode("latin-1"))
    (tmp_path / "notes.txt").write_text("not a CSV file: left alone")
    _, cursor = look(tmp_path, None)
    events, cursor = look(tmp_path, cursor)
    assert events == []
    look(tmp_path, cursor)
    assert visible(tmp_path) == ["notes.txt"]
    assert visible(tmp_path / "failed") == ["bad.csv", "bad.csv.report.txt", "latin.csv", "latin.csv.report.txt"]
    said = (tmp_path / "failed" / "bad.csv.report.txt").read_text()
    assert "line 3: 1 fields, the header has 2" in said and "line 5: 3 fields, the header has 2" in said
    assert "not UTF-8" in (tmp_path / "failed" / "latin.csv.report.txt").read_text()


def test_a_move_repeated_after_a_crash_finds_the_file_gone(tmp_path):
    (tmp_path / "a.csv").write_text("Date,Amount\n2026-01-31,5.00\n")
    _, cursor = look(tmp_path, None)
    _, cursor = look(tmp_path, cursor)
    settings = {"watch_folder": str(tmp_path)}
    files.perform(MoveFile("a.csv", "done/a.csv", folder_setting="watch_folder"), settings)  # then died
    events, _ = look(tmp_path, cursor)                      # the poll's cursor was never advanced
    assert events == [] and visible(tmp_path / "done") == ["a.csv"]


RECIPE = {
    "id": "dropped-rows-to-ledger", "version": 1, "description": "Each dropped row, copied to the ledger.",
    "trigger": {"event": "files.csv_dropped", "connection": "drop"},
    "steps": [{"id": "row", "action": "files.append_csv", "connection": "books", "input": {
        "file": "ledger.csv", "date": {"$path": "$.event.columns.Date"}, "currency": "USD",
        "columns": [{"name": "Date", "type": "date", "value": {"$path": "$.event.columns.Date"}},
                    {"name": "Amount", "type": "money", "value": {"$path": "$.event.columns.Amount"}}]}}],
}


def test_the_hosts_poll_loop_plans_each_row_once_even_when_the_file_is_dropped_again(tmp_path):
    watch, books, recipes = tmp_path / "watch", tmp_path / "books", tmp_path / "recipes"
    for folder in (watch, books, recipes):
        folder.mkdir()
    (recipes / "dropped.json").write_text(json.dumps(RECIPE))
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f'[connections.drop]\nconnector = "files"\nwatch_folder = "{watch}"\npoll_seconds = 1\n\n'
                      f'[connections.books]\nconnector = "files"\nfolder = "{books}"\n')
    catalog = load_catalog()
    runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), recipes,
                      Settings(backoff_base=0.05, backoff_cap=0.2))
    runtime.registry.reload()
    text = "Date,Amount\n2026-01-31,12.50\n2026-01-31,-0.30\n"

    def polls(count: int) -> None:
        for _ in range(count):
            due_now(runtime)
            assert host_poll(runtime, "test", "drop") == 1

    (watch / "in.csv").write_text(text)
    polls(3)
    (watch / "in.csv").write_text(text)
    polls(3)
    pool = WorkerPool(runtime, 1)
    pool.start()
    try:
        deadline = time.monotonic() + 60
        while runtime.store.counts() != {"succeeded": 2} and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pool.stop()
        runtime.close()
    assert runtime.store.counts() == {"succeeded": 2}
    assert [r[:2] for r in csv_rows(books / "ledger.csv")[1:]] == [["2026-01-31", "12.50"], ["2026-01-31", "-0.30"]]
    assert len(visible(watch / "done")) == 2 and visible(watch) == []


def due_now(runtime) -> None:
    """Make the polls due now: the test is the clock, a poll is a look."""
    with runtime.store.engine.begin() as conn:
        conn.execute(cursors.update().values(due_at=0))
