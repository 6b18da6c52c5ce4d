"""The recipes of recipes/files validate against the catalog, and the rows they write for a
paid invoice, a refund and a payout are the layouts Xero's and QuickBooks' bank statement
importers take (:mod:`importer_layouts`), moving the Stripe balance by exactly what Stripe's
balance transactions say. ``tests/books/test_files_books_month.py`` writes the whole
simulated month in each layout."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from files_helpers import run
from importer_layouts import LAYOUTS as PUBLISHED, journals, read_layout

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import IncomingEvent
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.recipes.recipe import check_recipe
from ledgerlink_files import csv_file
from runtime_fixtures import REPO, WEBHOOK_SECRET
from stripe_events import charge_refunded_event, invoice_paid_event, payout_paid_event

FOLDER = REPO / "recipes" / "files"
LAYOUTS = {"xero": PUBLISHED["xero-bank-statement"], "quickbooks": PUBLISHED["quickbooks-bank-statement"]}


def balance_transaction(currency: str, amount: int, fee: int) -> dict:
    """What the Stripe connector adds to an event before planning (``$.event.balance_transaction``)."""
    return {"id": f"txn_{amount}_{fee}", "amount": amount, "fee": fee, "net": amount - fee, "currency": currency,
            "exchange_rate": None, "fee_details": [{"amount": fee, "currency": currency, "type": "stripe_fee",
                                                    "description": "Stripe processing fees"}] if fee else []}


def events(currency: str) -> dict[str, dict]:
    paid = invoice_paid_event(currency, 10000, event_id=f"evt_paid_{currency}")
    paid["balance_transaction"] = balance_transaction(currency, 10000, 320)
    refunded = charge_refunded_event(currency, 2500, amount=10000, event_id=f"evt_refund_{currency}")
    refunded["balance_transaction"] = balance_transaction(currency, -2500, 0)
    refunded["refund"] = {"id": f"re_{currency}", "created": refunded["created"]}
    return {"stripe.invoice.paid": paid, "stripe.charge.refunded": refunded,
            "stripe.payout.paid": payout_paid_event(currency, 6000, event_id=f"evt_payout_{currency}")}


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    path = tmp_path / "ledgerlink.toml"
    path.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
                    f'[connections.files]\nconnector = "files"\nfolder = "{tmp_path}"\n')
    catalog = load_catalog()
    return catalog, load_config(path, catalog)


def recipes() -> list[Path]:
    return sorted(FOLDER.glob("*.json"))


def test_there_is_a_recipe_per_event_and_importer_and_each_says_which_importer():
    names = {p.stem for p in recipes()}
    assert names == {f"stripe-{event}-to-{target}" for target in (*(f"{t}-bank-statement-csv" for t in LAYOUTS),
                                                                  "xero-manual-journal-csv")
                     for event in ("invoice-paid", "charge-refunded", "payout-paid")}
    says = {"xero-bank": "Import a Statement", "quickbooks-bank": "Upload from file",
            "xero-manual": "Manual journals > Import"}
    for path in recipes():
        description = json.loads(path.read_text())["description"]
        assert any(kind in path.name and words in description for kind, words in says.items()), path.name


@pytest.mark.parametrize("target", sorted(LAYOUTS))
@pytest.mark.parametrize("currency, places", [("usd", 2), ("jpy", 0)])
def test_the_rows_are_the_importers_layout_and_move_the_balance_exactly(config, tmp_path, target, currency, places):
    catalog, loaded = config
    (tmp_path / target).mkdir()
    for path in recipes():
        if f"-to-{target}-bank-" not in path.name:
            continue
        built, problems = check_recipe(json.loads(path.read_text()), path.name, catalog, loaded)
        assert built is not None, problems
        event = events(currency)[built.trigger.name]
        report = dry_run(built, catalog, loaded, IncomingEvent(event["id"], built.trigger.name, event))
        for n, step in enumerate(report["steps"]):
            if step["status"] == "would_run":
                run(csv_file.perform, step["input"], tmp_path, f"{path.stem}-{n}")
    (statement,) = [p for p in (tmp_path / target).iterdir() if not p.name.startswith(".")]
    assert statement.name == f"stripe-{currency}-statement-2023-11.csv"
    lines = read_layout(statement, LAYOUTS[target], places)  # the header, dates, the currency's decimals
    unit = Decimal(1).scaleb(-places)
    # +10000 paid, -320 fee, -2500 refunded, -6000 paid out, in minor units
    assert sorted(line.amount for line in lines) == sorted(Decimal(m) * unit for m in (10000, -320, -2500, -6000))
    assert sum(line.amount for line in lines) == Decimal(1180) * unit


def test_the_manual_journals_balance_and_move_the_clearing_account_exactly(config, tmp_path):
    catalog, loaded = config
    (tmp_path / "xero").mkdir()
    for currency in ("usd", "jpy"):  # a manual journal is in the base currency: JPY is filtered out
        for path in recipes():
            if "manual-journal" not in path.name:
                continue
            built, problems = check_recipe(json.loads(path.read_text()), path.name, catalog, loaded)
            assert built is not None, problems
            event = events(currency)[built.trigger.name]
            report = dry_run(built, catalog, loaded, IncomingEvent(event["id"], built.trigger.name, event))
            for n, step in enumerate(report["steps"]):
                if step["status"] == "would_run":
                    run(csv_file.perform, step["input"], tmp_path, f"{path.stem}-{currency}-{n}")
    files = sorted(p for p in (tmp_path / "xero").iterdir() if not p.name.startswith("."))
    assert all(p.name.startswith("stripe-manual-journals-2023-") for p in files)  # one file a day
    lines = [line for p in files for line in read_layout(p, PUBLISHED["xero-manual-journal"], 2)]
    assert len(lines) == 8  # the JPY settlements were not written
    by_journal = journals(lines)
    assert len(by_journal) == 4  # sale, fee, refund, payout
    assert {sum(line.amount for line in journal) for journal in by_journal.values()} == {Decimal(0)}  # balanced
    clearing = sum(line.amount for line in lines if line.cells["*AccountCode"] == "610")
    assert clearing == Decimal("11.80")  # +100.00 -3.20 -25.00 -60.00
    assert {line.cells["*TaxRate"] for line in lines} == {"Tax Exempt"}
