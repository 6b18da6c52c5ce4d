"""files.append_csv against a real folder: header once, exact money, neutralised formulas,
rotation, a BOM for Excel, one row per key (the file is the ledger), paths kept inside."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from files_helpers import csv_rows, run, row_input

from ledgerlink.errors import FileEffectError, InputError
from ledgerlink_files import csv_file


def test_rows_follow_one_header_with_exact_amounts_and_iso_dates(tmp_path):
    outputs = [run(csv_file.perform, row_input("ledger.csv", amount, currency=currency), tmp_path, f"k{n}")
               for n, (amount, currency) in enumerate([("12.5", "USD"), ("1500", "JPY"), ("-0.125", "KWD"),
                                                       ("1234567890123.45", "USD")])]
    assert [o["status"] for o in outputs] == ["appended"] * 4
    assert outputs[0] == {"id": "ledger.csv#k0", "path": "ledger.csv", "key": "k0", "status": "appended"}
    assert csv_rows(tmp_path / "ledger.csv") == [
        ["Date", "Amount", "Description", "ledgerlink_key"],
        ["2026-01-31", "12.50", "Stripe invoice in_1", "k0"],
        ["2026-01-31", "1500", "Stripe invoice in_1", "k1"],
        ["2026-01-31", "-0.125", "Stripe invoice in_1", "k2"],     # a negative amount stays a number
        ["2026-01-31", "1234567890123.45", "Stripe invoice in_1", "k3"],
    ]
    raw = (tmp_path / "ledger.csv").read_bytes()
    assert raw.startswith(b"Date,") and raw.count(b"\r\n") == 5  # no BOM unless asked; RFC 4180 lines


@pytest.mark.parametrize("text, written", [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"), ("+1 refund", "'+1 refund"),
    ("-5 fee", "'-5 fee"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"),
    ("Acme, Inc. \"north\"", "Acme, Inc. \"north\""), ("Café 5 €", "Café 5 €"),
])
def test_a_text_cell_that_a_spreadsheet_would_run_is_neutralised(tmp_path, text, written):
    run(csv_file.perform, row_input("ledger.csv", "1.00", description=text), tmp_path, "k1")
    assert csv_rows(tmp_path / "ledger.csv")[1][2] == written


def test_the_file_name_rotates_with_the_runs_date_and_a_bom_starts_a_new_file(tmp_path):
    (tmp_path / "stripe").mkdir()
    for n, day in enumerate(["2026-01-30", "2026-01-31", "2026-02-01"]):
        out = run(csv_file.perform, row_input("stripe/payments.csv", "1.00", day=day, rotation="monthly", bom=True),
                  tmp_path, f"m{n}")
        run(csv_file.perform, row_input("stripe/payments.csv", "1.00", day=day, rotation="daily"), tmp_path, f"d{n}")
    assert out["path"] == "stripe/payments-2026-02.csv"
    assert sorted(p.name for p in (tmp_path / "stripe").iterdir() if not p.name.startswith(".")) == [
        "payments-2026-01-30.csv", "payments-2026-01-31.csv", "payments-2026-01.csv", "payments-2026-02-01.csv",
        "payments-2026-02.csv"]
    january = (tmp_path / "stripe" / "payments-2026-01.csv").read_bytes()
    assert january.startswith("\ufeffDate,".encode()) and january.count("\ufeff".encode()) == 1
    assert [r[-1] for r in csv_rows(tmp_path / "stripe" / "payments-2026-01.csv")] == ["ledgerlink_key", "m0", "m1"]


def test_a_step_run_again_finds_its_row_in_the_file_even_without_the_hosts_journal(tmp_path):
    data = row_input("ledger.csv", "42.00")
    assert run(csv_file.find_existing, data, tmp_path, "k1") is None
    assert run(csv_file.perform, data, tmp_path, "k1")["status"] == "appended"
    for journal in tmp_path.glob(".*journal"):  # lost: only the key column can tell now
        journal.unlink()
    assert run(csv_file.perform, data, tmp_path, "k1") == {"id": "ledger.csv#k1", "path": "ledger.csv", "key": "k1",
                                                            "status": "already_applied"}
    assert run(csv_file.find_existing, data, tmp_path, "k1")["status"] == "already_applied"
    assert run(csv_file.find_existing, data, tmp_path, "k2") is None
    assert [r[-1] for r in csv_rows(tmp_path / "ledger.csv")] == ["ledgerlink_key", "k1"]


def test_a_file_keeps_one_layout(tmp_path):
    run(csv_file.perform, row_input("ledger.csv", "1.00"), tmp_path, "k1")
    other = row_input("ledger.csv", "1.00")
    other["columns"] = other["columns"][:2]
    before = hashlib.sha256((tmp_path / "ledger.csv").read_bytes()).digest()
    with pytest.raises(FileEffectError, match="a file keeps one layout") as refused:
        run(csv_file.perform, other, tmp_path, "k2")
    assert refused.value.kind == "permanent"
    assert hashlib.sha256((tmp_path / "ledger.csv").read_bytes()).digest() == before


def test_every_input_problem_is_named_at_once_before_any_file_is_touched(tmp_path):
    bad = {"file": "../outside.csv", "date": "2026-02-30", "rotation": "weekly", "currency": "usd!",
           "columns": [{"name": "Amount", "value": 12.5, "type": "money"},
                       {"name": "Fee", "value": "0.125", "type": "money", "currency": "USD"},
                       {"name": "Fee", "value": "x", "type": "colour"}], "extra": 1}
    with pytest.raises(InputError) as refused:
        run(csv_file.perform, bad, tmp_path, "k1")
    found = refused.value.details["problems"]
    for where in ("/file", "/date", "/rotation", "/currency", "/columns/0/value", "/columns/1/value",
                  "/columns/2/name", "/columns/2/type", "/extra"):
        assert any(p.startswith(where + ":") for p in found), (where, found)
    assert "floats lose cents" in " ".join(found) and "more decimals than USD" in " ".join(found)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("file", ["/etc/ledger.csv", "a/../../x.csv", "ledger.txt"])
def test_a_file_outside_the_folder_or_of_another_kind_is_an_input_problem(tmp_path, file):
    with pytest.raises(InputError, match="/file"):
        run(csv_file.perform, row_input(file, "1.00"), tmp_path, "k1")


def test_a_link_out_of_the_folder_is_refused_by_the_host(tmp_path):
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "out").symlink_to(tmp_path)
    with pytest.raises(FileEffectError, match="symbolic link"):
        run(csv_file.perform, row_input("out/ledger.csv", "1.00"), tmp_path / "books", "k1")
    assert not (tmp_path / "ledger.csv").exists()


def test_a_negated_column_writes_money_out_as_a_negative_amount(tmp_path):
    data = row_input("ledger.csv", "0.30")
    data["columns"][1]["negate"] = True
    run(csv_file.perform, data, tmp_path, "k1")
    data["columns"][1]["value"] = "-2.00"
    run(csv_file.perform, data, tmp_path, "k2")
    assert [r[1] for r in csv_rows(tmp_path / "ledger.csv")[1:]] == ["-0.30", "2.00"]
    data["columns"][0]["negate"] = True
    with pytest.raises(InputError, match="/columns/0/negate"):
        run(csv_file.perform, data, tmp_path, "k3")


def journal(day: str = "2026-01-31", lines=(("1200", "112.50"), ("400", "-112.50"))) -> dict:
    return {"file": "journals.csv", "date": day, "currency": "USD",
            "rows": [[{"name": "Narration", "value": "Stripe invoice in_1"},
                      {"name": "Date", "value": day, "type": "date", "format": "dd/mm/yyyy"},
                      {"name": "AccountCode", "value": code},
                      {"name": "Amount", "value": amount, "type": "money"}] for code, amount in lines]}


def test_a_journals_rows_are_written_together_once_each_with_the_key(tmp_path):
    assert run(csv_file.perform, journal(), tmp_path, "k1")["status"] == "appended"
    assert run(csv_file.perform, journal(), tmp_path, "k1")["status"] == "already_applied"
    run(csv_file.perform, journal(lines=(("610", "3.20"), ("1200", "-3.20"))), tmp_path, "k2")
    assert csv_rows(tmp_path / "journals.csv") == [
        ["Narration", "Date", "AccountCode", "Amount", "ledgerlink_key"],
        ["Stripe invoice in_1", "31/01/2026", "1200", "112.50", "k1"],
        ["Stripe invoice in_1", "31/01/2026", "400", "-112.50", "k1"],
        ["Stripe invoice in_1", "31/01/2026", "610", "3.20", "k2"],
        ["Stripe invoice in_1", "31/01/2026", "1200", "-3.20", "k2"]]
    assert sum(Decimal(r[3]) for r in csv_rows(tmp_path / "journals.csv")[1:]) == 0


def test_rows_of_different_columns_or_rows_beside_columns_are_refused(tmp_path):
    mixed = journal()
    mixed["rows"][1] = mixed["rows"][1][:3]
    with pytest.raises(InputError, match="/rows/1: row 1 has the columns"):
        run(csv_file.perform, mixed, tmp_path, "k1")
    both = {**journal(), "columns": journal()["rows"][0]}
    with pytest.raises(InputError, match="not both or neither"):
        run(csv_file.perform, both, tmp_path, "k1")
    badly_dated = journal()
    badly_dated["rows"][0][1]["format"] = "yyyy.mm.dd"
    badly_dated["rows"][1][0]["format"] = "iso"
    with pytest.raises(InputError) as refused:
        run(csv_file.perform, badly_dated, tmp_path, "k1")
    found = " ".join(refused.value.details["problems"])
    assert "/rows/0/1/format" in found and "/rows/1/0/format" in found
    assert list(tmp_path.iterdir()) == []


def test_a_step_names_its_rows_and_what_they_book_as_export_reads_it(tmp_path):
    statement = {**row_input("bank.csv", "3.20", description="fee", key_column=None, day="2026-01-30",
                             rotation="monthly")}
    statement["columns"][1]["negate"] = True
    out = run(csv_file.perform, statement, tmp_path, "k1")
    assert out["id"] == "bank-2026-01.csv#k1"
    booked = csv_file.APPEND_CSV.entry(statement, out)
    assert (booked.date, booked.amount, booked.currency) == ("2026-01-30", Decimal("-3.20"), "USD")
    journal = {"file": "journals.csv", "date": "2026-01-31", "currency": "usd",
               "rows": [[{"name": "*Date", "value": "2026-01-31", "type": "date", "format": "dd/mm/yyyy"},
                         {"name": "*AccountCode", "value": code},
                         {"name": "*Amount", "value": value, "type": "money"}]
                        for code, value in (("610", "96.80"), ("090", "-100.00"), ("404", "3.20"))]}
    booked = csv_file.APPEND_CSV.entry(journal, {})
    assert (booked.date, booked.amount, booked.currency) == ("2026-01-31", Decimal("100.00"), "USD")
    assert csv_file.APPEND_CSV.entry({"file": "x.txt"}, {}) is None
