"""``ledgerlink reconcile`` on the simulated month booked into Xero, faults planted.

The month is booked by Xero's clearing mode (``recipes/xero/mode-1-clearing``), as the proof
books it. Untouched, the reconciliation finds Stripe and Xero in agreement and ``ledgerlink
reconcile`` exits 0. Then faults are planted the ways they happen: in Xero, through its
Accounting API, as a person would (a fee's bank transaction deleted, a sale's amount edited,
a fee entered a second time), and a payout's booking undone in ledgerlink (the payout then
booked nowhere). The reconciliation finds every planted fault, each naming its run and its
fix, and nothing else; the command exits 3. Selected with ``-m books``.
"""

from __future__ import annotations

import contextlib
import io
import json
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from books_month import book_the_month, work_off
from ledgerlink import jsonio
from ledgerlink.cli import main
from ledgerlink.engine.export import rows
from ledgerlink.engine.operations import replay, undo
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.engine.reconciliations import latest
from ledgerlink.store.schema import events
from ledgerlink_xero.api import xero_date
from xero_books import XERO, client, get

pytestmark = pytest.mark.books

SINCE, UNTIL = "2023-09-01", "2023-10-15"  # the month, and the payouts arriving after it
#: what Xero sets on a bank transaction, which a person entering it again does not type
SET_BY_XERO = ("BankTransactionID", "UpdatedDateUTC", "SubTotal", "TotalTax", "Total", "Status", "IsReconciled",
               "HasAttachments", "CurrencyRate", "StatusAttributeString", "ValidationErrors")


def cli(month_: Any, tmp_path: Any, *options: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["reconcile", "--db", month_.runtime.store.url, "--recipes", str(tmp_path / "recipes"),
                       "--config", str(tmp_path / "ledgerlink.toml"), "--since", SINCE, "--until", UNTIL, *options])
    return status, out.getvalue()


def booked(month_: Any, action: str, step: str) -> list[dict[str, Any]]:
    """The steps ``step`` of ``action`` booked in Xero, as ``ledgerlink export`` reads them."""
    return [row for row in rows(month_.runtime.store, month_.runtime.catalog, 0.0, 4102444800.0)
            if row["action"] == action and row["kind"] == step]


def post(api: Any, path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    answer = api.request(method, path, content=jsonio.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def drifts(month_: Any) -> list[dict[str, Any]]:
    """The ``ledgerlink.reconcile.drift`` events stored."""
    with month_.runtime.store.engine.connect() as conn:
        return [json.loads(row.payload) for row in conn.execute(
            sa.select(events.c.payload).where(events.c.trigger == "ledgerlink.reconcile.drift")).all()]


def plant(month_: Any) -> dict[str, tuple[str, str, int]]:
    """The four faults; problem → (entity or source object, id, run)."""
    fee, twin_of = booked(month_, "xero.create_bank_transaction", "fee")[3:5]
    sale = booked(month_, "xero.create_bank_transaction", "sale")[4]
    payout = next(row for row in booked(month_, "xero.create_bank_transfer", "transfer")[5:]
                  if row["source_id"].startswith("po_"))
    with client(month_.ledger_url) as api:
        post(api, f"/BankTransactions/{fee['ledger_id']}", {"BankTransactionID": fee["ledger_id"], "Status": "DELETED"})
        [stored] = get(api, f"/BankTransactions/{sale['ledger_id']}")["BankTransactions"]
        lines = [{key: line[key] for key in ("Description", "Quantity", "UnitAmount", "AccountCode")}
                 for line in stored["LineItems"]]
        lines[0]["UnitAmount"] = Decimal(str(lines[0]["UnitAmount"])) + Decimal("1.00")
        post(api, f"/BankTransactions/{sale['ledger_id']}", {"BankTransactionID": sale["ledger_id"],
                                                             "LineItems": lines})
        [original] = get(api, f"/BankTransactions/{twin_of['ledger_id']}")["BankTransactions"]
        copy = {key: value for key, value in original.items() if key not in SET_BY_XERO}
        copy["Date"] = xero_date(original["Date"]).isoformat()
        copy["LineItems"] = [{key: line[key] for key in ("Description", "Quantity", "UnitAmount", "AccountCode")}
                             for line in original["LineItems"]]
        [twin] = post(api, "/BankTransactions", {"BankTransactions": [copy]}, "PUT")["BankTransactions"]
    undone = undo(month_.runtime, int(payout["run"]))
    assert undone["status"] == "undone", undone
    return {"missing": ("BankTransaction", fee["ledger_id"], int(fee["run"])),
            "amount": ("BankTransaction", sale["ledger_id"], int(sale["run"])),
            "duplicated": ("BankTransaction", twin["BankTransactionID"], int(twin_of["run"])),
            "not_booked": ("payout", payout["source_id"], 0)}


def test_planted_faults_in_xero_are_found_and_nothing_else(tmp_path, keys):
    with book_the_month("clearing", tmp_path, ledger=XERO) as month_:
        clean = reconcile(month_.runtime, SINCE, UNTIL)
        assert clean.ok, [(d.problem, d.entity, d.id, d.expected, d.found) for d in clean.discrepancies][:5]
        assert clean.listed["xero"] > 600 and clean.listed["stripe"] > 300 and clean.booked > 600
        status, out = cli(month_, tmp_path)
        assert status == 0 and "both sides agree" in out, out
        assert latest(month_.runtime)["ok"] is True and not drifts(month_)

        planted = plant(month_)
        report = reconcile(month_.runtime, SINCE, UNTIL)
        found = {d.problem: (d.entity, d.id, d.run or 0) for d in report.discrepancies}
        assert found == planted and len(report.discrepancies) == 4, [
            (d.problem, d.entity, d.id, d.run, d.expected, d.found) for d in report.discrepancies]
        fixes = {d.problem: d.fix for d in report.discrepancies}
        assert f"`ledgerlink runs replay {planted['missing'][2]}`" in fixes["missing"]
        assert f"run {planted['amount'][2]}" in fixes["amount"]
        assert f"delete BankTransaction {planted['duplicated'][1]}" in fixes["duplicated"]
        assert "`ledgerlink backfill stripe-payout-paid-to-xero-transfer-from-clearing" in fixes["not_booked"]
        amount = next(d for d in report.discrepancies if d.problem == "amount")
        assert Decimal(amount.found.split()[0]) - Decimal(amount.expected.split()[0]) == Decimal("1.00")

        status, out = cli(month_, tmp_path, "--connection", "xero", "--format", "json")
        assert status == 3
        assert json.loads(out)["counts"] == {"missing": 1, "amount": 1, "duplicated": 1, "not_booked": 1}
        # the ledger that disagrees raised its drift
        assert {(d["data"]["connection"], d["data"]["discrepancies"]) for d in drifts(month_)} == {("xero", 4)}

        # the fix named for the entry deleted books it again: undo the run, then replay it
        missing_run = planted["missing"][2]
        assert undo(month_.runtime, missing_run)["status"] == "undone"
        assert replay(month_.runtime, missing_run)["status"] == "pending"
        work_off(month_.runtime)
        assert month_.runtime.store.run(missing_run)["status"] == "succeeded"
        again = reconcile(month_.runtime, SINCE, UNTIL)
        assert sorted(d.problem for d in again.discrepancies) == ["amount", "duplicated", "not_booked"], [
            (d.problem, d.entity, d.id, d.run, d.expected, d.found) for d in again.discrepancies]
