"""``ledgerlink reconcile`` on the simulated month booked into QuickBooks, faults planted.

The month is booked by the clearing mode's recipes (as the proof books it). Untouched, the
reconciliation finds both sides in agreement and ``ledgerlink reconcile`` exits 0. Then
faults are planted the ways they happen: in QuickBooks, through its API, as a person would
(a journal entry deleted, an expense's amount edited, a sales receipt entered a second
time), and the bookings of a payout, of a refund and of a dispute's funds withdrawn undone in
ledgerlink (each then booked nowhere: Stripe lists it, no run books it). The
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

REFUND_RECIPE = "stripe-charge-refunded-to-quickbooks-refund-from-clearing"
DISPUTE_RECIPE = "stripe-dispute-funds-withdrawn-to-quickbooks-clearing"

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


def stripe_payload(month_: Any, event_id: str) -> dict[str, Any]:
    """The Stripe event a run was planned from, as stored (enriched)."""
    return json.loads(month_.runtime.store.payloads("stripe", [event_id])[event_id])


def plant(month_: Any) -> list[tuple[str, str, str, int]]:
    """The faults, sorted; each (problem, entity or source object, id, run (0: none)); a source
    object booked nowhere names the run undone."""
    journal, fee, sale = (booked(month_, f"quickbooks.create_{name}")[3]
                          for name in ("journal_entry", "purchase", "sales_receipt"))
    payout = next(row for row in booked(month_, "quickbooks.create_transfer")[5:]
                  if row["source_id"].startswith("po_"))
    refund = [row for row in exported(month_) if row["recipe"] == REFUND_RECIPE and row["run"] != journal["run"]][-1]
    dispute = next(row for row in exported(month_) if row["recipe"] == DISPUTE_RECIPE and row["run"] != journal["run"])
    refund_id = stripe_payload(month_, refund["event_id"])["refund"]["id"]
    withdrawal = stripe_payload(month_, dispute["event_id"])["data"]["object"]["balance_transactions"][0]["id"]
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
    for row in (payout, refund, dispute):
        undone = undo(month_.runtime, int(row["run"]))
        assert undone["status"] == "undone", undone
    return sorted([("missing", "JournalEntry", journal["ledger_id"], int(journal["run"])),
                   ("amount", "Purchase", fee["ledger_id"], int(fee["run"])),
                   ("duplicated", "SalesReceipt", twin["Id"], int(sale["run"])),
                   ("not_booked", "payout", payout["source_id"], int(payout["run"])),
                   ("not_booked", "refund", refund_id, int(refund["run"])),
                   ("not_booked", "dispute", withdrawal, int(dispute["run"]))])


def forget_refunds(month_: Any) -> None:
    """Each refund run's stored event without the refund enrichment named (as delivered)."""
    with month_.runtime.store.engine.begin() as conn:
        for row in exported(month_):
            if row["recipe"] == REFUND_RECIPE:
                payload = stripe_payload(month_, row["event_id"])
                del payload["refund"]
                conn.execute(sa.update(events).where(events.c.connection == "stripe",
                                                     events.c.event_id == row["event_id"])
                             .values(payload=json.dumps(payload)))


def found_in(report: Any) -> list[tuple[str, str, str, int]]:
    return sorted((d.problem, d.entity, d.id, d.run or 0) for d in report.discrepancies)


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
        assert found_in(report) == planted, [(d.problem, d.entity, d.id, d.run, d.expected, d.found)
                                             for d in report.discrepancies]
        fixes = {(d.problem, d.entity): d.fix for d in report.discrepancies}
        run_of = {(problem, entity): run for problem, entity, _, run in planted}
        missing_run, amount_run = run_of["missing", "JournalEntry"], run_of["amount", "Purchase"]
        assert f"`ledgerlink runs replay {missing_run}`" in fixes["missing", "JournalEntry"]
        assert f"run {amount_run}" in fixes["amount", "Purchase"] and "correct the amount" in fixes["amount", "Purchase"]
        twin = next(ident for problem, _, ident, _ in planted if problem == "duplicated")
        assert f"delete SalesReceipt {twin}" in fixes["duplicated", "SalesReceipt"]
        # each thing booked nowhere names its run undone, and replaying it (a backfill plans an
        # object once: it would plan nothing)
        for entity, recipe in (("payout", "stripe-payout-paid-to-quickbooks-transfer-from-clearing"),
                               ("refund", REFUND_RECIPE), ("dispute", DISPUTE_RECIPE)):
            assert (f"run {run_of['not_booked', entity]} of {recipe} was to book it and is undone: "
                    f"`ledgerlink runs replay {run_of['not_booked', entity]}`") in fixes["not_booked", entity]
        amount = next(d for d in report.discrepancies if d.problem == "amount")
        assert Decimal(amount.found.split()[0]) - Decimal(amount.expected.split()[0]) == Decimal("1.00")

        status, out = cli(month_, tmp_path, "--format", "json")
        assert status == 3
        shown = json.loads(out)
        assert shown["ok"] is False and shown["counts"] == {"missing": 1, "amount": 1, "duplicated": 1,
                                                            "not_booked": 3}
        # the ledger that disagrees raised its drift, and the report is kept as the latest
        drift = [json.loads(row.payload) for row in drifts(month_)]
        assert [(d["data"]["connection"], d["data"]["discrepancies"]) for d in drift] == [("quickbooks", 6)]
        assert latest(month_.runtime)["counts"] == shown["counts"]
        status, out = cli(month_, tmp_path, "--format", "csv")
        assert status == 3 and out.splitlines()[0].startswith("problem,connection,kind")
        assert len(out.splitlines()) == 7
        status, out = cli(month_, tmp_path, "--connection", "quickbooks")
        assert status == 3 and "not_booked" in out and "duplicated" in out

        # the fix named for the entry deleted books it again: undo the run, then replay it
        assert undo(month_.runtime, missing_run)["status"] == "undone"
        assert replay(month_.runtime, missing_run)["status"] == "pending"
        work_off(month_.runtime)
        assert month_.runtime.store.run(missing_run)["status"] == "succeeded"
        again = reconcile(month_.runtime, SINCE, UNTIL)
        assert sorted(d.problem for d in again.discrepancies) == ["amount", "duplicated"] + ["not_booked"] * 3
        rebooked = [row for row in booked(month_, "quickbooks.create_journal_entry") if row["run"] == missing_run]
        missing_id = next(ident for problem, _, ident, _ in planted if problem == "missing")
        assert len(rebooked) == 1 and rebooked[0]["ledger_id"] != missing_id

        # the fix named for the refund booked nowhere books it: replay its run
        refund_run = run_of["not_booked", "refund"]
        assert replay(month_.runtime, refund_run)["status"] == "pending"
        work_off(month_.runtime)
        fixed = reconcile(month_.runtime, SINCE, UNTIL)
        assert found_in(fixed) == [fault for fault in found_in(again) if fault[1] != "refund"]

        # refunds whose events do not say which refund (not enriched) are booked by the runs
        # that link their charge with their amount: nothing else is found
        forget_refunds(month_)
        assert found_in(reconcile(month_.runtime, SINCE, UNTIL)) == found_in(fixed)


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
