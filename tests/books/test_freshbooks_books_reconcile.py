"""``ledgerlink reconcile`` on the simulated month booked into FreshBooks, faults planted.

The month is booked by FreshBooks' payout-summary mode
(``recipes/freshbooks/mode-2-payout-summary``: each payout an other income of its sales and
an expense of its fees), as the proof books it. Untouched, the reconciliation finds Stripe and
FreshBooks in agreement and ``ledgerlink reconcile`` exits 0. Then faults are planted the ways
they happen: in FreshBooks, through its API, as a person would (a payout's income deleted, a
payout's fees edited, an income entered a second time), and a payout's booking undone in
ledgerlink (the payout then booked nowhere). The reconciliation finds every planted fault,
each naming its run and its fix, and nothing else; the command exits 3. Selected with
``-m books``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from books_month import book_the_month
from reconcile_checks import SINCE, UNTIL, cli, drifts, exported, the_planted_faults_are_found
from fb_sandbox import call, result
from freshbooks_books import FRESHBOOKS, At
from ledgerlink.engine.operations import undo
from ledgerlink.engine.reconcile import reconcile
from ledgerlink.engine.reconciliations import latest

pytestmark = pytest.mark.books

INCOME = "freshbooks.create_other_income"
#: what a person types when entering an other income again
TYPED = ("amount", "category_name", "date", "note", "payment_type", "source", "taxes")


def booked(month_: Any, action: str) -> list[dict[str, Any]]:
    """The steps of ``action`` booked in FreshBooks, as ``ledgerlink export`` reads them."""
    return [row for row in exported(month_)
            if row["action"] == action and row["recipe"] == "stripe-payout-paid-to-freshbooks-income-and-fees"]


def plant(month_: Any) -> dict[str, tuple[str, str, int]]:
    """The four faults; problem → (entity or source object, id, run)."""
    at = At(month_.ledger_url)
    gone, twin_of = booked(month_, INCOME)[2:4]
    fees = booked(month_, "freshbooks.create_expense")[6]
    payout = booked(month_, INCOME)[9]
    assert len({gone["run"], twin_of["run"], fees["run"], payout["run"]}) == 4
    answer = call(at, "DELETE", f"other_incomes/other_incomes/{gone['ledger_id']}")
    assert answer.status_code == 200, answer.text
    expense = result(call(at, "GET", f"expenses/expenses/{fees['ledger_id']}"))["expense"]
    edited = {"amount": str(Decimal(expense["amount"]["amount"]) + Decimal("1.00")), "code": expense["amount"]["code"]}
    result(call(at, "PUT", f"expenses/expenses/{fees['ledger_id']}", {"expense": {"amount": edited}}))
    original = result(call(at, "GET", f"other_incomes/other_incomes/{twin_of['ledger_id']}"))["other_income"]
    twin = result(call(at, "POST", "other_incomes/other_incomes",
                       {"other_income": {key: original[key] for key in TYPED if key in original}}))["other_income"]
    undone = undo(month_.runtime, int(payout["run"]))
    assert undone["status"] == "undone", undone
    return {"missing": ("other_income", str(gone["ledger_id"]), int(gone["run"])),
            "amount": ("expense", str(fees["ledger_id"]), int(fees["run"])),
            "duplicated": ("other_income", str(twin.get("incomeid") or twin.get("id")), int(twin_of["run"])),
            "not_booked": ("payout", payout["source_id"], int(payout["run"]))}


def test_planted_faults_in_freshbooks_are_found_and_nothing_else(tmp_path, keys):
    with book_the_month("payout-summary", tmp_path, ledger=FRESHBOOKS) as month_:
        clean = reconcile(month_.runtime, SINCE, UNTIL)
        assert clean.ok, [(d.problem, d.entity, d.id, d.expected, d.found) for d in clean.discrepancies][:5]
        assert clean.listed["freshbooks"] > 40 and clean.listed["stripe"] > 300 and clean.booked > 40
        status, out = cli(month_, tmp_path)
        assert status == 0 and "both sides agree" in out, out
        assert latest(month_.runtime)["ok"] is True and not drifts(month_)

        planted = plant(month_)
        the_planted_faults_are_found(month_, tmp_path, planted, connection="freshbooks", duplicate_entity="other_income",
                                     payout_recipe="stripe-payout-paid-to-freshbooks-income-and-fees")
