"""files.append_xlsx against a real folder: typed cells read back exactly by openpyxl, one row
per key, and a row is never lost to another writer that replaced the workbook in between."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from files_helpers import context, run, row_input
from openpyxl import load_workbook

from ledgerlink.contract import FileResult, ReadFile, WriteFile
from ledgerlink.errors import FileEffectError
from ledgerlink.io import files
from ledgerlink_files import xlsx_file


def sheet_of(path):
    return load_workbook(path).worksheets[0]


def test_cells_are_typed_and_exact_money_has_the_currencys_decimals(tmp_path):
    rows = [("12.5", "USD"), ("1500", "JPY"), ("-0.125", "KWD"), ("1234567890123.45", "USD"),
            ("12345678901234.56", "USD")]
    for n, (amount, currency) in enumerate(rows):
        out = run(xlsx_file.perform, row_input("ledger.xlsx", amount, currency=currency,
                                               description="=1+1" if n == 0 else "Stripe"), tmp_path, f"k{n}")
        assert out == {"id": f"ledger.xlsx#k{n}", "path": "ledger.xlsx", "key": f"k{n}", "status": "appended"}
    sheet = sheet_of(tmp_path / "ledger.xlsx")
    assert sheet.title == "Ledger"
    assert [c.value for c in sheet[1]] == ["Date", "Amount", "Description", "ledgerlink_key"]
    dates = [sheet.cell(row=r, column=1) for r in range(2, 7)]
    assert all(c.value == dt.datetime(2026, 1, 31) and c.number_format == "yyyy-mm-dd" for c in dates)
    amounts = [sheet.cell(row=r, column=2) for r in range(2, 7)]
    assert [c.number_format for c in amounts[:4]] == ["0.00", "0", "0.000", "0.00"]
    # a double read back from at most 15 significant digits is the decimal that was written
    assert [Decimal(repr(c.value)).quantize(Decimal(1).scaleb(-p)) for c, p in zip(amounts[:4], (2, 0, 3, 2))] == [
        Decimal("12.50"), Decimal("1500"), Decimal("-0.125"), Decimal("1234567890123.45")]
    assert all(isinstance(c.value, (int, float)) for c in amounts[:4])
    # 16 significant digits: a double would round it, so its digits are kept as text
    assert (amounts[4].value, amounts[4].data_type) == ("12345678901234.56", "s")
    formula = sheet.cell(row=2, column=3)
    assert (formula.value, formula.data_type) == ("'=1+1", "s")
    assert [sheet.cell(row=r, column=4).value for r in range(2, 7)] == ["k0", "k1", "k2", "k3", "k4"]


def test_a_step_run_again_finds_its_row_in_the_workbook(tmp_path):
    data = row_input("ledger.xlsx", "42.00", rotation="monthly", sheet="Payments")
    assert run(xlsx_file.find_existing, data, tmp_path, "k1") is None
    assert run(xlsx_file.perform, data, tmp_path, "k1")["path"] == "ledger-2026-01.xlsx"
    for journal in tmp_path.glob(".*journal"):
        journal.unlink()
    assert run(xlsx_file.perform, data, tmp_path, "k1")["status"] == "already_applied"
    assert run(xlsx_file.find_existing, data, tmp_path, "k1")["status"] == "already_applied"
    sheet = sheet_of(tmp_path / "ledger-2026-01.xlsx")
    assert sheet.title == "Payments" and sheet.max_row == 2


def test_a_workbook_replaced_between_the_read_and_the_write_is_read_again(tmp_path):
    """Another writer adds its row after this step read the workbook: the host answers the
    step's write 'conflict', and the step reads again, keeping both rows."""
    settings = {"folder": str(tmp_path)}
    steps = xlsx_file.perform(row_input("ledger.xlsx", "1.00"), context(tmp_path, "mine"))
    effect = next(steps)
    assert isinstance(effect, ReadFile)
    write = steps.send(files.perform(effect, settings))
    assert isinstance(write, WriteFile) and write.expect_sha256 == files.first_answer(effect).sha256
    run(xlsx_file.perform, row_input("ledger.xlsx", "2.00"), tmp_path, "theirs")  # in between
    answer = files.perform(write, settings)
    assert answer.status == "conflict"
    again = steps.send(answer)
    assert isinstance(again, ReadFile)
    write = steps.send(files.perform(again, settings))
    with pytest.raises(StopIteration) as done:
        steps.send(files.perform(write, settings))
    assert done.value.value["status"] == "appended"
    assert [r[-1] for r in sheet_of(tmp_path / "ledger.xlsx").iter_rows(values_only=True)] == [
        "ledgerlink_key", "theirs", "mine"]


def test_a_writer_that_keeps_losing_the_race_gives_up_for_a_retry(tmp_path):
    steps = xlsx_file.perform(row_input("ledger.xlsx", "1.00"), context(tmp_path, "k1"))
    effect = next(steps)
    with pytest.raises(FileEffectError, match="tried again") as gave_up:
        while True:
            answer = (FileResult(effect.path, 0, "absent", sha256="0" * 64) if isinstance(effect, ReadFile)
                      else FileResult(effect.path, 0, "conflict", sha256="1" * 64))
            effect = steps.send(answer)
    assert gave_up.value.kind == "retry"


def test_a_file_that_is_not_a_workbook_or_of_another_layout_is_refused(tmp_path):
    (tmp_path / "ledger.xlsx").write_bytes(b"Date,Amount\r\n")
    with pytest.raises(FileEffectError, match="not an Excel workbook"):
        run(xlsx_file.perform, row_input("ledger.xlsx", "1.00"), tmp_path, "k1")
    run(xlsx_file.perform, row_input("other.xlsx", "1.00"), tmp_path, "k1")
    narrower = row_input("other.xlsx", "1.00")
    narrower["columns"] = narrower["columns"][:1]
    with pytest.raises(FileEffectError, match="a file keeps one layout"):
        run(xlsx_file.perform, narrower, tmp_path, "k2")


def test_a_journals_rows_go_in_together_with_dates_shown_as_asked(tmp_path):
    rows = [[{"name": "Date", "value": "2026-01-31", "type": "date", "format": "mm/dd/yyyy"},
             {"name": "Amount", "value": amount, "type": "money"}] for amount in ("5.00", "-5.00")]
    data = {"file": "journals.xlsx", "date": "2026-01-31", "currency": "USD", "rows": rows}
    assert run(xlsx_file.perform, data, tmp_path, "k1")["status"] == "appended"
    assert run(xlsx_file.perform, data, tmp_path, "k1")["status"] == "already_applied"
    sheet = sheet_of(tmp_path / "journals.xlsx")
    assert [[c.value for c in r] for r in sheet.iter_rows(min_row=2)] == [
        [dt.datetime(2026, 1, 31), 5, "k1"], [dt.datetime(2026, 1, 31), -5, "k1"]]
    assert sheet.cell(row=2, column=1).number_format == "mm/dd/yyyy"


def test_only_a_workbook_with_its_key_column_names_the_row_a_step_wrote(tmp_path):
    keyed = run(xlsx_file.perform, row_input("keyed.xlsx", "12.50"), tmp_path, "k1")
    assert keyed["id"] == "keyed.xlsx#k1"
    assert xlsx_file.APPEND_XLSX.entry(row_input("keyed.xlsx", "12.50"), keyed).amount == Decimal("12.50")
    bare = run(xlsx_file.perform, row_input("bare.xlsx", "12.50", key_column=None), tmp_path, "k2")
    assert "id" not in bare and bare["status"] == "appended"
