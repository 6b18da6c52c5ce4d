"""The files connection's rows read back as reconcile records, through the host's real file
effects on a real folder written by files.append_csv and files.append_xlsx: each step's rows
found again by the id its output names (by the journal beside a CSV file, by the key column),
rotation names, the layouts' date formats, amounts in minor units, kinds, and how a row
edited, deleted, copied or added by hand is seen."""

from __future__ import annotations

from files_helpers import run, row_input

from ledgerlink.contract import ActionContext, Connection
from ledgerlink.io import files
from ledgerlink.testing import drive
from ledgerlink.connectors.manager import load_catalog
from ledgerlink_files import csv_file, xlsx_file
from ledgerlink_files.reconcile import RECONCILE

QB = {"path": "quickbooks", "date_format": "mm/dd/yyyy"}
FILE = "quickbooks/stripe-usd-statement-2026-01.csv"
ROWS = [("2026-01-30", "100.00", "Stripe - invoice in_1"), ("2026-01-30", "-3.20", "Stripe - fee on ch_1"),
        ("2026-01-31", "-96.80", "Stripe - Stripe payout po_1 to the bank - po_1"),
        ("2026-02-01", "-10.00", "Stripe - refund re_1")]


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


def by_id(folder, **options):
    return {r.id: (r.amount, r.date) for r in listed(folder, **options)}


def qb_row(day, amount, description):
    """A row of QuickBooks' 3-column bank statement, as the recipes of recipes/files/ write it."""
    return {"file": "quickbooks/stripe-usd-statement.csv", "rotation": "monthly", "date": day, "currency": "USD",
            "key_column": None,
            "columns": [{"name": "Date", "value": day, "type": "date", "format": "mm/dd/yyyy"},
                        {"name": "Description", "value": description},
                        {"name": "Amount", "value": amount, "type": "money"}]}


def month(folder, rows=ROWS):
    (folder / "quickbooks").mkdir()
    outputs = [run(csv_file.perform, qb_row(*row), folder, f"k{n}") for n, row in enumerate(rows)]
    return folder / FILE, [out["id"] for out in outputs]


def test_each_steps_row_is_found_by_the_id_its_output_names_in_rotated_files(tmp_path):
    _, ids = month(tmp_path)
    assert ids == [f"{FILE}#k0", f"{FILE}#k1", f"{FILE}#k2", "quickbooks/stripe-usd-statement-2026-02.csv#k3"]
    found = listed(tmp_path)
    assert [(r.id, r.kind, r.amount, r.currency, r.date, r.entity) for r in found] == [
        (ids[0], "payment", 10000, "USD", "2026-01-30", "row"), (ids[1], "fee", -320, "USD", "2026-01-30", "row"),
        (ids[2], "payout", -9680, "USD", "2026-01-31", "row"), (ids[3], "refund", -1000, "USD", "2026-02-01", "row")]
    assert [r.date for r in listed(tmp_path, "2026-01-31", "2026-01-31")] == ["2026-01-31"]
    assert RECONCILE.entities == {"files.append_csv": "row", "files.append_xlsx": "row"}
    assert load_catalog().connectors["files"].reconcile is RECONCILE


def test_a_row_edited_keeps_its_id_a_row_deleted_is_gone_and_rows_added_are_a_persons(tmp_path):
    path, ids = month(tmp_path, ROWS[:3] + [("2026-01-31", "-10.00", "Stripe - refund re_1")])
    lines = path.read_bytes().split(b"\r\n")
    # the invoice's amount edited in place, the payout's date too, the fee's row deleted, a row
    # typed in at the end, and the refund's row copied there
    edited = [lines[0], lines[1].replace(b"100.00", b"110.00"), lines[3].replace(b"01/31/2026", b"01/29/2026"),
              lines[4], b'01/15/2026,Coffee,-4.50', lines[4], b""]
    path.write_bytes(b"\r\n".join(edited))
    content = f"{FILE}|2026-01-31|-10.00|Stripe - refund re_1#2"
    assert by_id(tmp_path) == {ids[0]: (11000, "2026-01-30"), ids[2]: (-9680, "2026-01-29"),
                               ids[3]: (-1000, "2026-01-31"), f"{FILE}|2026-01-15|-4.50|Coffee": (-450, "2026-01-15"),
                               content: (-1000, "2026-01-31")}


def test_rows_edited_side_by_side_are_read_in_order_and_a_longer_edit_takes_one_row(tmp_path):
    path, ids = month(tmp_path, ROWS[:3])
    lines = path.read_bytes().split(b"\r\n")
    edited = [lines[0], lines[1].replace(b"100.00", b"1000.00"), lines[2].replace(b"-3.20", b"-3.25"),
              b"01/30/2026,Stripe - fee on ch_1 (typed again),-3.20", lines[3], b""]
    path.write_bytes(b"\r\n".join(edited))
    found = by_id(tmp_path)
    assert found[ids[0]] == (100000, "2026-01-30") and found[ids[1]] == (-325, "2026-01-30")
    assert found[ids[2]] == (-9680, "2026-01-31") and len(found) == 4


def test_a_journals_rows_are_one_record_of_its_debits(tmp_path):
    (tmp_path / "xero").mkdir()
    journal = {"file": "xero/journals.csv", "date": "2026-01-31", "currency": "USD", "key_column": None,
               "rows": [[{"name": "*Narration", "value": "Stripe invoice in_1"},
                         {"name": "*Date", "value": "2026-01-31", "type": "date", "format": "dd/mm/yyyy"},
                         {"name": "*AccountCode", "value": code},
                         {"name": "*Amount", "value": value, "type": "money"}]
                        for code, value in (("610", "96.80"), ("404", "3.20"), ("090", "-100.00"))]}
    out = run(csv_file.perform, journal, tmp_path, "j1")
    xero = [{"path": "xero", "date_format": "dd/mm/yyyy"}]
    [record] = listed(tmp_path, reconcile_folders=xero)
    assert (record.id, record.kind, record.amount, record.date) == (out["id"], "journal", 10000, "2026-01-31")
    assert csv_file.APPEND_CSV.entry(journal, out).amount * 100 == record.amount
    path = tmp_path / "xero" / "journals.csv"
    path.write_bytes(path.read_bytes().replace(b"96.80", b"97.80"))  # a debit edited: the journal says so
    assert [(r.id, r.amount) for r in listed(tmp_path, reconcile_folders=xero)] == [(out["id"], 10100)]


def test_a_key_column_names_the_rows_when_the_journal_is_lost_and_a_copy_stays_a_copy(tmp_path):
    outs = [run(csv_file.perform, row_input("ledger.csv", amount, currency=currency), tmp_path, key)
            for key, amount, currency in (("k1", "12.50", "USD"), ("k2", "1500", "JPY"))]
    for journal in tmp_path.glob(".*journal"):
        journal.unlink()
    path = tmp_path / "ledger.csv"
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join([*lines[:2], lines[1], *lines[2:]]))  # k1's row copied right below it
    found = listed(tmp_path, reconcile_folders=[{"path": ".", "currency": "USD"}])
    assert [(r.id, r.amount) for r in found] == [
        (outs[0]["id"], 1250), (outs[1]["id"], 150000), ("ledger.csv|2026-01-31|12.50|Stripe invoice in_1#2", 1250)]


def test_a_workbooks_rows_are_found_by_their_key_column_dates_typed(tmp_path):
    (tmp_path / "quickbooks").mkdir()
    keyed = run(xlsx_file.perform, row_input("quickbooks/ledger-kwd.xlsx", "-12.345", currency="KWD",
                                             description="Stripe fee"), tmp_path, "x1")
    run(xlsx_file.perform, row_input("quickbooks/bare-usd.xlsx", "20.00", key_column=None), tmp_path, "x2")
    found = {r.id: (r.kind, r.amount, r.currency, r.date) for r in listed(tmp_path)}
    assert found == {keyed["id"]: ("fee", -12345, "KWD", "2026-01-31"),
                     "quickbooks/bare-usd.xlsx|2026-01-31|20|Stripe invoice in_1": ("payment", 2000, "USD", "2026-01-31")}


def test_a_file_that_is_no_ledger_and_a_folder_that_is_absent_list_nothing(tmp_path):
    (tmp_path / "notes.csv").write_text("Name,Phone\r\nA,1\r\n")
    (tmp_path / "ledger.xlsx").write_bytes(b"PK")
    (tmp_path / "latin.csv").write_bytes("Date,Amount,Description\r\n2026-01-01,1.00,caf\xe9\r\n".encode("latin-1"))
    assert listed(tmp_path, reconcile_folders=[{"path": "."}, {"path": "gone"}]) == []


def test_a_row_deleted_by_hand_before_the_last_leaves_the_rest_of_the_file_whole(tmp_path):
    path, ids = month(tmp_path)
    lines = path.read_bytes().split(b"\r\n")
    kept = b"\r\n".join([lines[0], *lines[2:]])  # the invoice's row deleted
    path.write_bytes(kept)
    assert sorted(by_id(tmp_path)) == sorted(ids[1:])
    assert path.read_bytes() == kept  # the journal took the edit for none of its appends cut short
    again = run(csv_file.perform, qb_row(*ROWS[2]), tmp_path, "k2")
    assert again["status"] == "already_applied" and path.read_bytes() == kept  # its key still applied
