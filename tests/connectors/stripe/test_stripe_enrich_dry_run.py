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
