"""`ledgerlink check`: every account and customer a recipe names exists and is active."""

from __future__ import annotations

import json

import httpx

from conftest import RECIPES, run_subprocess
from ledgerlink.preflight import references
from ledgerlink.servers import background
from ledgerlink_quickbooks.sandbox import create_sandbox
from runtime_fixtures import QBO_TOKEN, migrated_db, write_config

RECIPE = RECIPES / "stripe-invoice-paid-to-quickbooks-journal.json"
REALM = "9130350000000000"


def test_references_found_in_a_recipe(catalog):
    recipe = json.loads(RECIPE.read_text())
    schema = catalog.actions["quickbooks.create_journal_entry"].input_schema
    found = references(recipe["steps"][0]["input"], schema, schema, recipe["lookups"], "/steps/0/input")
    assert sorted(found) == [
        ("Account", "4", "/lookups/accounts/undeposited_funds"),
        ("Account", "84", "/lookups/accounts/accounts_receivable"),
        ("Customer", "1", "/lookups/customers/cus_Oaxlz8kB0PJWGa"),
    ]


def test_check_command_reports_missing_and_inactive_ids(tmp_path):
    app = create_sandbox(rate_limit=False)
    with background(app) as sandbox:
        inactive = httpx.post(f"{sandbox.url}/v3/company/{REALM}/account?minorversion=75",
                              json={"Name": "Old clearing", "AccountType": "Other Current Asset", "Active": False},
                              headers={"Authorization": f"Bearer {QBO_TOKEN}"}).json()["Account"]["Id"]
        config = write_config(tmp_path, sandbox.url)
        env = {"LL_TEST_WHSEC": "whsec_test_secret", "LL_TEST_QBO_TOKEN": QBO_TOKEN}
        db = migrated_db(tmp_path)
        good = run_subprocess("check", str(RECIPE), "--db", db, "--config", str(config), env=env)
        assert good.returncode == 0, good.stdout + good.stderr
        assert "every referenced id exists and is active" in good.stderr
        recipe = json.loads(RECIPE.read_text())
        recipe["lookups"]["accounts"]["undeposited_funds"] = {"value": "999"}
        recipe["lookups"]["accounts"]["accounts_receivable"] = {"value": inactive}
        recipe["lookups"]["customers"]["cus_other"] = {"Type": "Customer", "EntityRef": {"value": "77"}}
        path = tmp_path / "recipe.json"
        path.write_text(json.dumps(recipe))
        bad = run_subprocess("check", str(path), "--db", db, "--config", str(config), env=env)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"{path}:/lookups/accounts/accounts_receivable: Account '{inactive}' is inactive in connection 'quickbooks'; "
        f"fix the id or the company",
        f"{path}:/lookups/accounts/undeposited_funds: Account '999' does not exist in connection 'quickbooks'; "
        f"fix the id or the company",
        f"{path}:/lookups/customers/cus_other: Customer '77' does not exist in connection 'quickbooks'; "
        f"fix the id or the company",
    ]
