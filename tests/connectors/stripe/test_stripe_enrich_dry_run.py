"""A recipe reading the enrichment: dry-run with the trigger's sample shows it in the request
it would send, and a trigger without that enrichment has no such key in its schema."""

from __future__ import annotations

import json

from ledgerlink import jsonio
from vendor_files import REPO

RECIPE = REPO / "recipes" / "stripe-invoice-paid-to-quickbooks-journal.json"


def test_dry_run_with_the_sample_shows_the_balance_transaction(run_cli, tmp_path):
    recipe = json.loads(RECIPE.read_text("utf-8"))
    entry = next(step for step in recipe["steps"] if step["id"] == "entry")
    entry["input"]["PrivateNote"] = {"$concat": [
        "Stripe fee ", {"$path": "$.event.balance_transaction.fee", "$as": "stripe.money",
                        "currency": {"$path": "$.event.balance_transaction.currency"}},
        " on ", {"$path": "$.event.balance_transaction.id"}]}
    path = tmp_path / "fee.json"
    path.write_text(json.dumps(recipe), "utf-8")
    code, out, err = run_cli("dry-run", str(path))
    assert code == 0, err
    report = jsonio.loads(out)
    assert any("sample event" in warning for warning in report["warnings"])
    notes = [step["input"]["PrivateNote"] for step in report["steps"] if "PrivateNote" in step.get("input", {})]
    assert notes == ["Stripe fee 0.59 on txn_1NnmMBGPxmnHQRkJNo4jmMSX"], out
    assert "Stripe fee 0.59" in jsonio.dumps(report["steps"][-1].get("request"))  # what it would send


def test_validate_refuses_an_enrichment_path_on_a_trigger_without_that_enrichment(run_cli, tmp_path):
    """The Stripe events are closed at the top: ``$.event.balance_transaction`` exists on
    invoice.paid (enriched) and not on customer.created, so ``ledgerlink validate`` refuses
    it there with the recipe's file, the expression's pointer and the trigger."""
    recipe = json.loads(RECIPE.read_text("utf-8"))
    entry = next(step for step in recipe["steps"] if step["id"] == "entry")
    entry["input"]["PrivateNote"] = {"$path": "$.event.balance_transaction.id"}
    index = recipe["steps"].index(entry)
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "enriched.json").write_text(json.dumps(recipe), "utf-8")
    code, out, err = run_cli("validate", str(folder))
    assert code == 0, out + err

    recipe["trigger"]["event"] = "stripe.customer.created"
    (folder / "enriched.json").write_text(json.dumps(recipe), "utf-8")
    code, out, err = run_cli("validate", str(folder))
    said = out + err
    assert code != 0
    assert "enriched.json" in said and "stripe.customer.created" in said
    assert f"/steps/{index}/input/PrivateNote" in said and "balance_transaction" in said
    assert "Traceback" not in said
