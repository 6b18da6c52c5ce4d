"""``ledgerlink reconcile`` on the simulated month booked into QuickBooks, faults planted.

The month is booked by the clearing mode's recipes (as the proof books it). Untouched, the
reconciliation finds both sides in agreement and ``ledgerlink reconcile`` exits 0. Then
faults are planted the ways they happen: in QuickBooks, through its API, as a person would
(a journal entry deleted, an expense's amount edited, a sales receipt entered a second
time), and a payout's booking undone in ledgerlink (the payout then booked nowhere). The
reconciliation then finds every planted fault, each naming its run and its fix, and nothing
else; the command exits 3 and prints the same in CSV and JSON. The fix it names for the
entry deleted (undo the run, replay it) books it again, and that fault is gone. The
payout-summary mode's month agrees too (no clearing account to compare, as its notes say),
until one of its journal entries is deleted. (The clearing account's balance is checked in
``test_books_reconcile_balance.py``.)
Selected with ``-m books``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from books_month import book_the_month, qbo_client, work_off
from reconcile_checks import SINCE, UNTIL, cli, exported
from ledgerlink.engine.operations import replay, undo
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.engine.reconciliations import latest
from ledgerlink.store.schema import events

pytestmark = pytest.mark.books

#: what a person does not copy when entering a transaction again by hand
SET_BY_QUICKBOOKS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "TotalAmt", "HomeTotalAmt", "DocNumber")


def drifts(month_: Any) -> list[Any]:
    """The ``ledgerlink.reconcile.drift`` events stored."""
    with month_.runtime.store.engine.connect() as conn:
        return conn.execute(sa.select(events.c.payload).where(events.c.trigger == "ledgerlink.reconcile.drift")).all()


def booked(month_: Any, action: str) -> list[dict[str, Any]]:
    """The steps of ``action`` booked in QuickBooks, as ``ledgerlink export`` reads them."""
    return [row for row in exported(month_) if row["action"] == action]


def read(qbo: Any, entity: str, entity_id: str) -> dict[str, Any]:
    answer = qbo.get(f"/{entity.lower()}/{entity_id}")
    assert answer.status_code == 200, answer.text
    return json.loads(answer.content, parse_float=Decimal)[entity]


def post(qbo: Any, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
    answer = qbo.post(f"/{entity.lower()}", content=json.dumps(body, default=str),
                      headers={"Content-Type": "application/json"}, params=params)
    assert answer.status_code == 200, answer.text
    return json.loads(answer.content, parse_float=Decimal)[entity]


def plant(month_: Any) -> dict[str, tuple[str, str, int]]:
    """The four faults; problem → (entity or source object, id, run)."""
    journal, fee, sale = (booked(month_, f"quickbooks.create_{name}")[3]
                          for name in ("journal_entry", "purchase", "sales_receipt"))
    payout = next(row for row in booked(month_, "quickbooks.create_transfer")[5:]
                  if row["source_id"].startswith("po_"))
    with qbo_client(month_.ledger_url) as qbo:
        entry = read(qbo, "JournalEntry", journal["ledger_id"])
        post(qbo, "JournalEntry", {"Id": entry["Id"], "SyncToken": entry["SyncToken"]}, operation="delete")
        expense = read(qbo, "Purchase", fee["ledger_id"])
        lines = expense["Line"]
        lines[0]["Amount"] = Decimal(lines[0]["Amount"]) + Decimal("1.00")
        post(qbo, "Purchase", {"Id": expense["Id"], "SyncToken": expense["SyncToken"], "sparse": True,
                               "Line": lines})
        receipt = read(qbo, "SalesReceipt", sale["ledger_id"])
        copy = {key: value for key, value in receipt.items() if key not in SET_BY_QUICKBOOKS}
        copy["Line"] = [{key: value for key, value in line.items() if key != "Id"} for line in receipt["Line"]
                        if line.get("DetailType") != "SubTotalLineDetail"]
        twin = post(qbo, "SalesReceipt", copy)
    undone = undo(month_.runtime, int(payout["run"]))
    assert undone["status"] == "undone", undone
    return {"missing": ("JournalEntry", journal["ledger_id"], int(journal["run"])),
            "amount": ("Purchase", fee["ledger_id"], int(fee["run"])),
            "duplicated": ("SalesReceipt", twin["Id"], int(sale["run"])),
            "not_booked": ("payout", payout["source_id"], 0)}


def test_planted_faults_are_found_and_nothing_else(tmp_path, keys):
    with book_the_month("clearing", tmp_path) as month_:
        clean = reconcile(month_.runtime, SINCE, UNTIL)
        assert clean.ok, [d for d in clean.discrepancies][:5]
        assert clean.listed["quickbooks"] > 300 and clean.listed["stripe"] > 300 and clean.booked > 300
        status, out = cli(month_, tmp_path)
        assert status == 0 and "both sides agree" in out, out
        assert latest(month_.runtime)["ok"] is True and not drifts(month_)

        planted = plant(month_)
        report = reconcile(month_.runtime, SINCE, UNTIL)
        found = {d.problem: (d.entity, d.id, d.run or 0) for d in report.discrepancies}
        assert found == planted, [(d.problem, d.entity, d.id, d.run, d.expected, d.found)
                                  for d in report.discrepancies]
        assert len(report.discrepancies) == 4
        fixes = {d.problem: d.fix for d in report.discrepancies}
        missing_run, amount_run = planted["missing"][2], planted["amount"][2]
        assert f"`ledgerlink runs replay {missing_run}`" in fixes["missing"]
        assert f"run {amount_run}" in fixes["amount"] and "correct the amount" in fixes["amount"]
        assert f"delete SalesReceipt {planted['duplicated'][1]}" in fixes["duplicated"]
        assert "`ledgerlink backfill stripe-payout-paid-to-quickbooks-transfer-from-clearing" in fixes["not_booked"]
        amount = next(d for d in report.discrepancies if d.problem == "amount")
        assert Decimal(amount.found.split()[0]) - Decimal(amount.expected.split()[0]) == Decimal("1.00")

        status, out = cli(month_, tmp_path, "--format", "json")
        assert status == 3
        shown = json.loads(out)
        assert shown["ok"] is False and shown["counts"] == {"missing": 1, "amount": 1, "duplicated": 1,
                                                            "not_booked": 1}
        # the ledger that disagrees raised its drift, and the report is kept as the latest
        drift = [json.loads(row.payload) for row in drifts(month_)]
        assert [(d["data"]["connection"], d["data"]["discrepancies"]) for d in drift] == [("quickbooks", 4)]
        assert latest(month_.runtime)["counts"] == shown["counts"]
        status, out = cli(month_, tmp_path, "--format", "csv")
        assert status == 3 and out.splitlines()[0].startswith("problem,connection,kind")
        assert len(out.splitlines()) == 5
        status, out = cli(month_, tmp_path, "--connection", "quickbooks")
        assert status == 3 and "not_booked" in out and "duplicated" in out

        # the fix named for the entry deleted books it again: undo the run, then replay it
        assert undo(month_.runtime, missing_run)["status"] == "undone"
        assert replay(month_.runtime, missing_run)["status"] == "pending"
        work_off(month_.runtime)
        assert month_.runtime.store.run(missing_run)["status"] == "succeeded"
        again = reconcile(month_.runtime, SINCE, UNTIL)
        assert sorted(d.problem for d in again.discrepancies) == ["amount", "duplicated", "not_booked"]
        rebooked = [row for row in booked(month_, "quickbooks.create_journal_entry") if row["run"] == missing_run]
        assert len(rebooked) == 1 and rebooked[0]["ledger_id"] != planted["missing"][1]


def test_the_payout_summary_month_agrees_until_a_journal_is_deleted(tmp_path, keys):
    """Mode 2 books one journal entry per payout: Stripe's invoices and charges are not
    expected in the books (no recipe of the ledger books them), its payouts are."""
    with book_the_month("payout-summary", tmp_path) as month_:
        clean = reconcile(month_.runtime, SINCE, UNTIL)
        assert clean.ok, clean.discrepancies[:5]
        assert 25 <= clean.booked == clean.listed["quickbooks"]
        # no clearing account in this mode: its balance is not compared, and the report says why
        assert not clean.balances and any("no clearing_account is set" in note for note in clean.notes), clean.notes
        journal = booked(month_, "quickbooks.create_journal_entry")[2]
        with qbo_client(month_.ledger_url) as qbo:
            entry = read(qbo, "JournalEntry", journal["ledger_id"])
            post(qbo, "JournalEntry", {"Id": entry["Id"], "SyncToken": entry["SyncToken"]}, operation="delete")
        status, out = cli(month_, tmp_path, "--format", "json")
        assert status == 3
        [found] = json.loads(out)["discrepancies"]
        assert (found["problem"], found["id"], found["run"], found["source_id"]) == (
            "missing", journal["ledger_id"], int(journal["run"]), journal["source_id"])
