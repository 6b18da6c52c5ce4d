"""``ledgerlink demo``'s books: a simulated day from the installed source connector's sandbox,
sent as signed webhooks to a real ``ledgerlink serve`` process running the mode-1 booking
recipes, booked into the ledger connector's sandbox, and a table per currency of the source's
balance, the clearing account and the bank. Loopback only; nothing is timed."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.cli.demo_books import BOOKS_FOLDER, books_folder, run_books, tied_out
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.store import Store
from ledgerlink.store.schema import events, runs
from ledgerlink.testing.processes import run_ledgerlink
from vendor_files import REPO

RECIPES = REPO / "recipes"


def stored(directory):
    """The serve's runs and events, read from its database."""
    store = Store(f"sqlite:///{directory / 'ledgerlink.db'}")
    try:
        with store.engine.connect() as conn:
            made = [dict(r._mapping) for r in conn.execute(sa.select(runs))]
            received = [dict(r._mapping) for r in conn.execute(sa.select(events))]
    finally:
        store.engine.dispose()
    return made, received


def test_a_day_booked_through_the_clearing_account_ties_out_to_the_source_balance(tmp_path):
    folder = books_folder(RECIPES)
    assert folder == RECIPES / BOOKS_FOLDER
    lines: list[str] = []
    table = run_books(load_catalog(), folder, tmp_path, out=lines.append)
    made, received = stored(tmp_path)

    # every run of the day succeeded, once per (event, recipe): payments, fees and the payout
    assert made and all(run["status"] == "succeeded" for run in made), [r["last_error"] for r in made][:3]
    assert len({(r["event_pk"], r["recipe_id"]) for r in made}) == len(made)
    assert {r["recipe_id"] for r in made} >= {"stripe-invoice-paid-to-quickbooks-payment-into-clearing",
                                               "stripe-payout-paid-to-quickbooks-transfer-from-clearing"}
    # the table: after the payout the clearing account is the source's balance, to the cent,
    # and the bank holds exactly the day's payouts, as the stored payout events say
    payouts = [jsonio.loads(e["payload"])["data"]["object"] for e in received if e["trigger"].endswith("payout.paid")]
    assert len(payouts) == 1
    [usd] = table
    assert usd["currency"] == "USD" and usd["source"] == usd["clearing"] > 0 and usd["difference"] == 0
    # what Stripe still holds is the charge after the payout, net of its fee, as its stored event says
    [after] = [jsonio.loads(e["payload"])["balance_transaction"] for e in received
               if e["trigger"].endswith("charge.succeeded")
               and jsonio.loads(e["payload"])["data"]["object"]["description"] == "Card payment after the payout"]
    assert usd["source"] == Decimal(after["net"]).scaleb(-2) and after["fee"] > 0
    assert usd["bank"] == Decimal(payouts[0]["amount"]).scaleb(-2) > 0
    assert tied_out(table)
    text = "\n".join(lines)
    assert re.search(r"^currency\s+Stripe balance\s+clearing account\s+bank\s+difference$", text, re.M), text
    assert re.search(rf"^\s+USD\s+{usd['source']}\s+{usd['clearing']}\s+{usd['bank']}\s+0\.00$", text, re.M), text
    assert "The books tie out" in text and "A day at Stripe:" in text and "1 payout paid" in text


def test_without_the_payout_recipe_the_demo_shows_the_difference_and_exits_1(tmp_path):
    """The payout never leaves the clearing account: it holds the day's net besides what
    Stripe still holds, the bank nothing, and the demo says so and fails."""
    recipes = tmp_path / "recipes"
    shutil.copytree(RECIPES, recipes, ignore=shutil.ignore_patterns("mode-2-*", "*transfer-from-clearing*"))
    result = run_ledgerlink("demo", "--recipes", str(recipes), "--workdir", str(tmp_path / "demo"), timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    row = re.search(r"^\s+USD\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$", result.stdout, re.M)
    assert row, result.stdout
    source, clearing, bank, difference = (Decimal(v) for v in row.groups())
    assert source > 0 and bank == 0 and clearing > source and difference == source - clearing
    assert "The books do NOT tie out" in result.stdout


def test_recipes_naming_no_connector_with_a_simulated_day_skip_the_books_part(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "other.json").write_text(jsonio.dumps({"id": "other", "version": 1, "trigger": {
        "event": "acme.thing", "connection": "acme"}, "steps": [{"id": "x", "connection": "acme"}]}))
    lines: list[str] = []
    assert run_books(load_catalog(), folder, tmp_path / "demo", out=lines.append) == []
    assert lines and "the books part is skipped" in lines[0] and not (tmp_path / "demo").exists()
    assert books_folder(tmp_path) is None  # no mode-1-clearing/ here
