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

from decimal import Decimal
from typing import Any

import pytest

from books_month import book_the_month
from reconcile_checks import SINCE, UNTIL, cli, drifts, exported, the_planted_faults_are_found
from ledgerlink import jsonio
from ledgerlink.engine.operations import undo
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.engine.reconciliations import latest
from ledgerlink_xero.api import xero_date
from xero_books import XERO, client, get

pytestmark = pytest.mark.books

#: what Xero sets on a bank transaction, which a person entering it again does not type
SET_BY_XERO = ("BankTransactionID", "UpdatedDateUTC", "SubTotal", "TotalTax", "Total", "Status", "IsReconciled",
               "HasAttachments", "CurrencyRate", "StatusAttributeString", "ValidationErrors")


def booked(month_: Any, action: str, step: str) -> list[dict[str, Any]]:
    """The steps ``step`` of ``action`` booked in Xero, as ``ledgerlink export`` reads them."""
    return [row for row in exported(month_) if row["action"] == action and row["kind"] == step]


def post(api: Any, path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    answer = api.request(method, path, content=jsonio.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()


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
            "not_booked": ("payout", payout["source_id"], int(payout["run"]))}


def test_planted_faults_in_xero_are_found_and_nothing_else(tmp_path, keys):
    with book_the_month("clearing", tmp_path, ledger=XERO) as month_:
        clean = reconcile(month_.runtime, SINCE, UNTIL)
        assert clean.ok, [(d.problem, d.entity, d.id, d.expected, d.found) for d in clean.discrepancies][:5]
        assert clean.listed["xero"] > 600 and clean.listed["stripe"] > 300 and clean.booked > 600
        status, out = cli(month_, tmp_path)
        assert status == 0 and "both sides agree" in out, out
        assert latest(month_.runtime)["ok"] is True and not drifts(month_)

        planted = plant(month_)
        the_planted_faults_are_found(month_, tmp_path, planted, connection="xero", duplicate_entity="BankTransaction",
                                     payout_recipe="stripe-payout-paid-to-xero-transfer-from-clearing")
