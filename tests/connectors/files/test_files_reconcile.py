"""The files connection's rows read back as reconcile records, through the host's real file
effects on a real folder written by files.append_csv: rotation names, the layouts' date
formats, amounts in minor units, kinds, and how a row edited, deleted or copied by hand looks."""

from __future__ import annotations

from files_helpers import run, row_input

from ledgerlink.contract import ActionContext, Connection
from ledgerlink.io import files
from ledgerlink.testing import drive
from ledgerlink_files import csv_file
from ledgerlink_files.reconcile import RECONCILE

QB = {"path": "quickbooks", "date_format": "mm/dd/yyyy"}


def listed(folder, since="2026-01-01", until="2026-12-31", reconcile_folders=(QB,)):
    """Every record of the period, page after page, each file effect performed on ``folder``."""
    settings = {"folder": str(folder), "reconcile_folders": list(reconcile_folders)}
    ctx = ActionContext(connection=Connection("books", "files", settings), idempotency_key="")
    found, cursor = [], None
    while True:
        page = drive(RECONCILE.records(since, until, cursor, ctx), lambda e: files.perform(e, settings)).value
        found += page.records
        if page.cursor is None:
            return found
        cursor = page.cursor


def qb_row(day, amount, description):
    """A row of QuickBooks' 3-column bank statement, as the recipes of recipes/files/ write it."""
    return {"file": "quickbooks/stripe-usd-statement.csv", "rotation": "monthly", "date": day, "currency": "USD",
            "key_column": None,
            "columns": [{"name": "Date", "value": day, "type": "date", "format": "mm/dd/yyyy"},
                        {"name": "Description", "value": description},
                        {"name": "Amount", "value": amount, "type": "money"}]}


def month(folder):
    (folder / "quickbooks").mkdir()
    for key, (day, amount, text) in enumerate([
            ("2026-01-30", "100.00", "Stripe - invoice in_1"), ("2026-01-30", "-3.20", "Stripe - fee on ch_1"),
            ("2026-01-31", "-96.80", "Stripe - Stripe payout po_1 to the bank - po_1"),
            ("2026-02-01", "-10.00", "Stripe - refund re_1")]):
        run(csv_file.perform, qb_row(day, amount, text), folder, f"k{key}")
    return folder / "quickbooks" / "stripe-usd-statement-2026-01.csv"


def test_rows_of_rotated_files_become_records_in_minor_units_by_layout(tmp_path):
    month(tmp_path)
    found = listed(tmp_path)
    assert [(r.kind, r.amount, r.currency, r.date) for r in found] == [
        ("payment", 10000, "USD", "2026-01-30"), ("fee", -320, "USD", "2026-01-30"),
        ("payout", -9680, "USD", "2026-01-31"), ("refund", -1000, "USD", "2026-02-01")]
    assert found[0].id == "quickbooks/stripe-usd-statement-2026-01.csv|2026-01-30|100.00|Stripe - invoice in_1"
    assert [r.date for r in listed(tmp_path, "2026-01-31", "2026-01-31")] == ["2026-01-31"]


def test_a_key_column_names_the_run_that_wrote_the_row(tmp_path):
    for key, amount in (("k1", "12.50"), ("k2", "1500")):
        run(csv_file.perform, row_input("ledger.csv", amount, currency="JPY" if key == "k2" else "USD"),
            tmp_path, key)
    found = listed(tmp_path, reconcile_folders=[{"path": ".", "currency": "USD"}])
    assert [(r.id, r.amount) for r in found] == [("k1", 1250), ("k2", 150000)]


def test_a_row_edited_or_copied_by_hand_changes_the_records_ids(tmp_path):
    path = month(tmp_path)
    before = {r.id for r in listed(tmp_path)}
    lines = path.read_bytes().split(b"\r\n")
    # the invoice's amount edited in place, the fee's row copied at the end of the file
    edited = [lines[0], lines[1].replace(b"100.00", b"110.00"), *lines[2:4], lines[2], b""]
    path.write_bytes(b"\r\n".join(edited))
    after = {r.id for r in listed(tmp_path)}
    prefix = "quickbooks/stripe-usd-statement-2026-01.csv|"
    assert before - after == {prefix + "2026-01-30|100.00|Stripe - invoice in_1"}
    assert after - before == {prefix + "2026-01-30|110.00|Stripe - invoice in_1",
                              prefix + "2026-01-30|-3.20|Stripe - fee on ch_1#2"}


def test_the_last_row_deleted_by_hand_is_no_longer_listed(tmp_path):
    path = month(tmp_path)
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join([*lines[:3], b""]))
    assert "Stripe - Stripe payout po_1 to the bank - po_1" not in {r.label for r in listed(tmp_path)}
    assert len(listed(tmp_path)) == 3


def test_a_file_that_is_no_ledger_and_a_folder_that_is_absent_list_nothing(tmp_path):
    (tmp_path / "notes.csv").write_text("Name,Phone\r\nA,1\r\n")
    (tmp_path / "ledger.xlsx").write_bytes(b"PK")
    assert listed(tmp_path, reconcile_folders=[{"path": "."}, {"path": "gone"}]) == []


def test_a_row_deleted_by_hand_before_the_last_leaves_the_rest_of_the_file_whole(tmp_path):
    path = month(tmp_path)
    lines = path.read_bytes().split(b"\r\n")
    kept = b"\r\n".join([lines[0], *lines[2:]])  # the invoice's row deleted
    path.write_bytes(kept)
    assert len(listed(tmp_path)) == 3
    assert path.read_bytes() == kept  # the journal took the edit for none of its appends cut short
    again = run(csv_file.perform, qb_row("2026-01-31", "-96.80", "Stripe - Stripe payout po_1 to the bank - po_1"),
                tmp_path, "k2")
    assert again["status"] == "already_applied" and path.read_bytes() == kept  # its key still applied
