"""``ledgerlink export`` and ``GET /api/export``: what the runs booked, a row per step with its
ledger id, read back exactly with the csv module and openpyxl.

The ledger is ``tally``, an in-test connector whose one action books an amount and declares
its ``entry``; events come from Stripe's webhook, signed as Stripe signs them, and real
workers run the recipe."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.contract import Action, Connector, Entry, LinkQuery
from ledgerlink.engine.export import COLUMNS, day_range, export
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import InvalidRequest
from ledgerlink.store import Store
from ledgerlink.web.app import create_app
from booked_tally import PAYMENT_INPUT, booked_runtime, entry, recipe
from runtime_fixtures import ADMIN_TOKEN

BOOK = {"type": "object", "properties": {"amount": {}, "currency": {}, "date": {}}}


def book(value, ctx):
    yield LinkQuery(ctx.event_id, "tally.book")  # a read, so the step yields something
    return {"id": f"T-{ctx.step_id}-{ctx.event_id}"}


class Tally:
    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(name="tally", summary="A ledger kept by the test"))

    @hookimpl
    def ledgerlink_register_actions(self, register):
        register(Action(name="tally.book", summary="Books an amount", input_schema=BOOK,
                        output_schema={"type": "object"}, sample={"amount": "1.00", "currency": "USD",
                                                                 "date": "2026-01-01"},
                        perform=book, entry=entry, idempotency="lookup"))


RECIPE = recipe(PAYMENT_INPUT, {"amount": "-0.125", "currency": "KWD", "date": "2026-01-31"})


@pytest.fixture
def booked(tmp_path, monkeypatch):
    """(database URL, catalog): two paid invoices booked by real workers."""
    runtime, _, _ = booked_runtime(tmp_path, monkeypatch, Tally(), RECIPE, "evt_export")
    runtime.close()
    return runtime.store.url, runtime.catalog


def today_range():
    today = dt.datetime.now(dt.timezone.utc).date()
    return day_range(today.isoformat(), None, today)


def test_a_row_per_booked_step_with_its_ledger_id_and_exact_amount(booked):
    db, catalog = booked
    data = b"".join(export(Store(db), catalog, *today_range(), "csv"))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["kind"], r["amount"], r["currency"], r["date"]) for r in rows] == [
        ("payment", "1234.56", "USD", "2023-11-14"), ("fee", "-0.125", "KWD", "2026-01-31"),
        ("payment", "1500", "JPY", "2023-11-14"), ("fee", "-0.125", "KWD", "2026-01-31")]
    first = rows[0]
    assert first["ledger"] == "tally" and first["ledger_id"] == "T-payment-evt_export_usd"
    assert (first["action"], first["source"], first["event_id"]) == ("tally.book", "stripe", "evt_export_usd")
    assert first["source_id"].startswith("in_") and first["trigger"] == "stripe.invoice.paid"
    assert (first["recipe"], first["recipe_version"], first["run"]) == ("invoice-paid-to-tally", "1", "1")
    assert sum(Decimal(r["amount"]) for r in rows if r["currency"] == "KWD") == Decimal("-0.250")


def test_the_workbook_holds_typed_exact_cells(booked):
    db, catalog = booked
    data = b"".join(export(Store(db), catalog, *today_range(), "xlsx"))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == list(COLUMNS)
    amount, date = COLUMNS.index("amount"), COLUMNS.index("date")
    assert [Decimal(repr(r[amount])) for r in rows] == [Decimal("1234.56"), Decimal("-0.125"), Decimal("1500"),
                                                       Decimal("-0.125")]
    assert rows[0][date] == dt.datetime(2023, 11, 14)
    cells = list(sheet.iter_rows(min_row=2, max_row=3))
    assert cells[0][amount].number_format == "0.00" and cells[1][amount].number_format == "0.000"


def test_runs_outside_the_days_are_not_exported_and_bad_days_are_refused(booked):
    db, catalog = booked
    today = dt.datetime.now(dt.timezone.utc).date()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    data = b"".join(export(Store(db), catalog, *day_range("2020-01-01", yesterday, today), "csv"))
    assert data.decode().splitlines() == [",".join(COLUMNS)]
    for since, until in (("2026-13-01", None), ("yesterday", None), ("2026-02-02", "2026-02-01")):
        with pytest.raises(InvalidRequest):
            day_range(since, until, today)


def test_the_command_writes_the_file_whole(booked, tmp_path):
    db, _ = booked
    out = tmp_path / "export.csv"
    done = subprocess.run([sys.executable, "-m", "ledgerlink", "export", "--db", db, "--since",
                           dt.datetime.now(dt.timezone.utc).date().isoformat(), "--format", "csv",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
    # the command's catalog has no tally connector: the rows are listed, their amounts unknown
    assert [(r["kind"], r["ledger_id"], r["amount"]) for r in rows] == [
        ("payment", "T-payment-evt_export_usd", ""), ("fee", "T-fee-evt_export_usd", ""),
        ("payment", "T-payment-evt_export_jpy", ""), ("fee", "T-fee-evt_export_jpy", "")]
    refused = subprocess.run([sys.executable, "-m", "ledgerlink", "export", "--db", db, "--since", "soon"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "YYYY-MM-DD" in refused.stderr


def test_the_api_streams_the_export_to_the_admin(booked, tmp_path):
    db, catalog = booked
    runtime = Runtime(catalog, load_config(tmp_path / "ledgerlink.toml", catalog), Store(db), tmp_path / "recipes")
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime, plugins=build_plugin_manager(only="stripe"))
    client = app.test_client()
    since = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert client.get(f"/api/export?since={since}").status_code == 401
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    answer = client.get(f"/api/export?since={since}", headers=auth)
    assert answer.status_code == 200 and answer.is_streamed and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True), newline="")))
    assert [r["amount"] for r in rows] == ["1234.56", "-0.125", "1500", "-0.125"]
    workbook = client.get(f"/api/export?since={since}&format=xlsx", headers=auth)
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(workbook.get_data())).worksheets[0].max_row == 5
    for query in ("", "?since=2026-1-1", f"?since={since}&format=pdf"):
        assert client.get(f"/api/export{query}", headers=auth).status_code == 400
    app.config["LEDGERLINK_RUNTIME"].close()


def test_an_entry_read_by_keys_prefers_the_ledgers_answer_to_the_steps_input():
    from ledgerlink.contract.entries import read_entry

    booked = read_entry(date=("txn_date", "TxnDate"), amount=("total",), currency=("currency", "CurrencyRef"))
    assert booked({"TxnDate": "2026-01-30", "CurrencyRef": {"value": "kwd"}},
                  {"id": "7", "total": "1.235"}) == Entry("2026-01-30", Decimal("1.235"), "KWD")
    assert booked({"TxnDate": "2026-01-30"}, {"txn_date": "2026-01-31", "total": Decimal("12.50"),
                                             "currency": "USD"}) == Entry("2026-01-31", Decimal("12.50"), "USD")
    assert booked({}, {"id": "7"}) == Entry(None, None, None)
    catalog = load_catalog()
    assert catalog.actions["quickbooks.create_payment"].entry is not None
    assert catalog.actions["xero.create_invoice"].entry is not None
    assert catalog.actions["quickbooks.find_account"].entry is None
