"""Each booking mode's recipes, dry-run (``ledgerlink dry-run``: nothing sent) on Stripe events
enriched as the Stripe connector enriches them: every entry they would send balances to the
cent, fits Intuit's XSD, and puts each amount on the side and account the mode says.

The trigger's own sample is used first (``ledgerlink connectors`` shows it), then events
built for what a sample lacks: a payout that pays out refunds, disputes, a failed payout's
return and taxed fees; a negative payout; a payout that fails after it was paid.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerlink import jsonio
from ledgerlink_sandboxes.quickbooks import xsd
from ledgerlink_stripe import enrich
from books_month import MODES

RECIPES = sorted(path for folder in MODES.values() for path in folder.glob("*.json"))
#: the last segment of a QuickBooks write's URL -> the XSD element of its body
ENTITIES = {name.lower(): name for name in ("JournalEntry", "Invoice", "Payment", "Purchase",
                                            "SalesReceipt", "Transfer", "Customer")}
SUMMARY = "stripe-payout-paid-to-quickbooks-summary-journal"
FAILED_SUMMARY = "stripe-payout-failed-to-quickbooks-summary-journal"
TRANSFER = "stripe-payout-paid-to-quickbooks-transfer-from-clearing"
REVERSE = "stripe-payout-failed-to-quickbooks-reverse-transfer"


def recipe(ident: str) -> Path:
    [path] = [p for p in RECIPES if p.stem == ident]
    return path


def dry_run(run_cli, path: Path, tmp_path: Path, event: Any = None) -> dict[str, Any]:
    extra: list[str] = []
    if event is not None:
        file = tmp_path / "event.json"
        file.write_text(jsonio.dumps(event))
        extra = ["--event", str(file)]
    code, out, err = run_cli("dry-run", str(path), *extra)
    assert code == 0, err
    return jsonio.loads(out)


def balanced(step: dict[str, Any]) -> dict[str, Decimal]:
    """The step's input checked whole: debits = credits for an entry, lines = total for a
    form, a positive amount for a transfer; and its body valid for QuickBooks. Returns
    {account id: signed amount} of a journal entry's lines (debit positive)."""
    request, data = step["request"], step["input"]
    if request["method"] != "POST":  # a read (the customer looked up first)
        return {}
    entity = ENTITIES[request["url"].split("?")[0].rsplit("/", 1)[-1]]
    assert xsd.check(entity, request["body"]) == [], (step["id"], entity)
    if entity == "JournalEntry":
        lines = data.get("Lines") or [{"PostingType": "Debit", "Amount": data["Amount"], "AccountRef": data["DebitAccount"]},
                                      {"PostingType": "Credit", "Amount": data["Amount"], "AccountRef": data["CreditAccount"]}]
        sides: dict[str, Decimal] = {}
        for line in lines:
            assert line["Amount"] > 0, line
            account = line["AccountRef"]["value"]
            sides[account] = sides.get(account, Decimal(0)) + (line["Amount"] if line["PostingType"] == "Debit" else -line["Amount"])
        assert sum(sides.values()) == 0, (step["id"], lines)
        return sides
    if entity in ("Purchase", "SalesReceipt"):
        assert sum(line["Amount"] for line in data["Lines"]) == data["Total"] > 0, step["id"]
    if entity == "Transfer":
        assert data["Amount"] > 0 and data["FromAccountRef"] != data["ToAccountRef"]
    return {}


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_recipe_validates_and_says_what_it_posts(run_cli, path):
    code, out, err = run_cli("validate", str(path))
    assert code == 0, out + err
    raw = jsonio.loads(path.read_bytes())
    assert len(raw["description"]) > 200 and raw["description"].startswith("When ")
    assert all(step.get("description") for step in raw["steps"])


@pytest.mark.parametrize("path", [p for p in RECIPES if p.stem not in (REVERSE, FAILED_SUMMARY)],
                         ids=[p.stem for p in RECIPES if p.stem not in (REVERSE, FAILED_SUMMARY)])
def test_the_triggers_enriched_sample_gives_balanced_entries(run_cli, tmp_path, path):
    report = dry_run(run_cli, path, tmp_path)
    assert report["matched"] is True
    ran = [step for step in report["steps"] if step["status"] == "would_run"]
    assert ran and all(step["status"] in ("would_run", "skipped") for step in report["steps"])
    for step in ran:
        balanced(step)


def payout_event(samples, amount: int) -> dict[str, Any]:
    """payout.paid, enriched with a day of everything a payout pays out (minor units, USD)."""
    def txn(n, kind, category, gross, fees=()):
        details = [{"amount": a, "currency": "usd", "type": t, "description": t, "application": None} for t, a in fees]
        fee = sum(a for _, a in fees)
        return {"id": f"txn_{n}", "object": "balance_transaction", "type": kind, "reporting_category": category,
                "currency": "usd", "amount": gross, "fee": fee, "net": gross - fee, "fee_details": details,
                "exchange_rate": None, "source": f"src_{n}", "created": 1694044800, "available_on": 1694217600,
                "status": "available", "description": None}
    listed = [txn(1, "charge", "charge", 123456, [("stripe_fee", 3610), ("tax", 361)]),
              txn(2, "charge", "charge", 10, [("stripe_fee", 30)]),
              txn(3, "refund", "refund", -20000),
              txn(4, "adjustment", "dispute", -5000, [("stripe_fee", 1500)]),
              txn(5, "adjustment", "dispute_reversal", 4000),
              txn(6, "payout_failure", "payout_reversal", 777)]
    net = sum(t["net"] for t in listed)
    listed.append(txn(7, "charge", "charge", amount - net + 59, [("stripe_fee", 59)]))  # the payout's amount
    event = copy.deepcopy(samples["stripe.payout.paid"])
    event["data"]["object"]["amount"] = amount
    event["balance_transactions"] = listed
    event["summary"] = enrich.summarize(listed, "usd")
    assert event["summary"]["net"] == amount
    return event


@pytest.mark.parametrize("amount", [250000, -100])
def test_mode_2_a_payout_of_everything_is_one_entry_with_the_bank_line_the_payout(run_cli, tmp_path, samples, amount):
    event = payout_event(samples, amount)
    [step] = dry_run(run_cli, recipe(SUMMARY), tmp_path, event)["steps"]
    sides = balanced(step)
    summary = event["summary"]
    cents = lambda minor: Decimal(minor).scaleb(-2)  # noqa: E731
    by = {row["reporting_category"]: row["amount"] for row in summary["by_category"]}
    assert sides == {
        "35": cents(amount),  # the bank: debited with a payout, credited with a negative one
        "1": -cents(by["charge"]),  # sales, gross
        "90": cents(20000),  # refunds
        "92": cents(5000 - 4000),  # chargebacks: the withdrawal less the reinstatement
        "93": -cents(777),  # a failed payout's money, paid out again
        "94": cents(3610 + 30 + 1500 + 59),  # fees
        "95": cents(361),  # tax on fees
    }
    bank = [line for line in step["input"]["Lines"] if line["AccountRef"]["value"] == "35"]
    assert [line["PostingType"] for line in bank] == ["Debit" if amount > 0 else "Credit"]


def test_mode_2_a_category_without_an_account_fails_naming_it(run_cli, tmp_path, samples):
    event = payout_event(samples, 250000)
    event["balance_transactions"][0]["reporting_category"] = "other_adjustment"
    event["summary"] = enrich.summarize(event["balance_transactions"], "usd")
    file = tmp_path / "event.json"
    file.write_text(jsonio.dumps(event))
    code, out, err = run_cli("dry-run", str(recipe(SUMMARY)), "--event", str(file))
    assert code != 0 and "other_adjustment" in out + err


def failed_after_paid(samples, amount: int) -> dict[str, Any]:
    event = copy.deepcopy(samples["stripe.payout.failed"])
    event["data"]["object"]["amount"] = amount
    event["data"]["previous_attributes"] = {"status": "paid"}
    return event


@pytest.mark.parametrize("amount", [110000, -2500])
def test_mode_1_a_payout_moves_its_amount_between_clearing_and_bank_and_a_failure_moves_it_back(
        run_cli, tmp_path, samples, amount):
    paid = copy.deepcopy(samples["stripe.payout.paid"])
    paid["data"]["object"]["amount"] = amount
    [there] = dry_run(run_cli, recipe(TRANSFER), tmp_path, paid)["steps"]
    [back] = dry_run(run_cli, recipe(REVERSE), tmp_path, failed_after_paid(samples, amount))["steps"]
    for step in (there, back):
        balanced(step)
        assert step["input"]["Amount"] == Decimal(abs(amount)).scaleb(-2)
    way = (there["input"]["FromAccountRef"]["value"], there["input"]["ToAccountRef"]["value"])
    assert way == (("96", "35") if amount > 0 else ("35", "96"))  # clearing → bank; negative: bank → clearing
    assert (back["input"]["FromAccountRef"]["value"], back["input"]["ToAccountRef"]["value"]) == way[::-1]


def test_a_payout_that_fails_before_it_was_paid_moves_nothing_in_mode_1(run_cli, tmp_path, samples):
    event = copy.deepcopy(samples["stripe.payout.failed"])
    event["data"]["previous_attributes"] = {"status": "pending"}
    assert dry_run(run_cli, recipe(REVERSE), tmp_path, event)["matched"] is False


def test_mode_2_a_payout_returned_after_it_was_paid_leaves_the_bank_for_the_holding_account(
        run_cli, tmp_path, samples):
    report = dry_run(run_cli, recipe(FAILED_SUMMARY), tmp_path, failed_after_paid(samples, 110000))
    steps = {step["id"]: step for step in report["steps"]}
    assert steps["listed"]["status"] == steps["itemized"]["status"] == "skipped"
    assert balanced(steps["returned"]) == {"93": Decimal("1100.00"), "35": Decimal("-1100.00")}
