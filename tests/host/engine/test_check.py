"""`ledgerlink check`: every account and customer a recipe names exists and is active."""

from __future__ import annotations

import json

import httpx

from runtime_fixtures import QBO_TOKEN, RECIPES, write_config
from ledgerlink.engine.preflight import references
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import run_ledgerlink

RECIPE = RECIPES / "stripe-invoice-paid-to-quickbooks-journal.json"
REALM = "9130350000000000"


def test_references_found_in_a_recipe(catalog):
    recipe = json.loads(RECIPE.read_text())
    schema = catalog.actions["quickbooks.create_journal_entry"].input_schema
    found = references(recipe["steps"][1]["input"], schema, schema, recipe["lookups"], "/steps/1/input")
    assert sorted(found) == [
        ("Account", "4", "/lookups/accounts/undeposited_funds"),
        ("Account", "84", "/lookups/accounts/accounts_receivable"),
    ]
    # what the recipe says each account is, beside its id (the customer is found at run time)
    from ledgerlink.engine.preflight import declared_references

    declared = declared_references(recipe["steps"][1]["input"], schema, schema, recipe["lookups"],
                                   "/steps/1/input")
    assert sorted((e, i, d) for e, i, _, d in declared) == [
        ("Account", "4", {"AccountType": "Other Current Asset"}),
        ("Account", "84", {"AccountType": "Accounts Receivable"}),
    ]



def test_references_of_spread_lines_are_found_as_the_lines_they_become():
    """A ``$spread`` ``$each`` in a list of lines is spliced into it: its map is a line, so the
    ids its lookup can give are found (every value of the table, the key being computed)."""
    line = {"type": "object", "properties": {"Account": {"type": "string", "x-ledgerlink-ref": "Account"}}}
    schema = {"type": "object", "properties": {"Lines": {"type": "array", "items": line}}}
    template = {"Lines": [{"Account": {"$lookup": "accounts", "key": "sales"}},
                          {"$each": "$.event.fees[*]", "$spread": True,
                           "map": {"Account": {"$lookup": "fees", "key": {"$path": "$.item.type"}}}}]}
    lookups = {"accounts": {"sales": "200"}, "fees": {"stripe_fee": "406", "tax": "407"}}
    assert sorted(references(template, schema, schema, lookups, "/input")) == [
        ("Account", "200", "/lookups/accounts/sales"), ("Account", "406", "/lookups/fees/stripe_fee"),
        ("Account", "407", "/lookups/fees/tax")]


def test_check_command_reports_missing_and_inactive_ids(tmp_path, qbo, sandbox, run_subprocess):
    inactive = httpx.post(f"{qbo.url}/v3/company/{REALM}/account?minorversion=75",
                          json={"Name": "Old clearing", "AccountType": "Other Current Asset", "Active": False},
                          headers={"Authorization": f"Bearer {QBO_TOKEN}"}).json()["Account"]["Id"]
    config = write_config(tmp_path, qbo.url)
    env = {"LL_TEST_WHSEC": "whsec_test_secret", "LL_TEST_QBO_TOKEN": QBO_TOKEN}
    db = migrated_db(tmp_path)
    good = run_subprocess("check", str(RECIPE), "--db", db, "--config", str(config), env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "every referenced id exists and is active" in good.stderr
    recipe = json.loads(RECIPE.read_text())
    recipe["lookups"]["accounts"]["undeposited_funds"] = {"value": "999"}
    recipe["lookups"]["accounts"]["accounts_receivable"] = {"value": inactive}
    recipe["steps"][1]["input"]["Lines"][0]["Entity"] = {"Type": "Customer", "EntityRef": {"value": "77"}}
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    bad = run_subprocess("check", str(path), "--db", db, "--config", str(config), env=env)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"{path}:/lookups/accounts/accounts_receivable: Account '{inactive}' is inactive in connection 'quickbooks'; "
        f"fix the id or the company",
        f"{path}:/lookups/accounts/undeposited_funds: Account '999' does not exist in connection 'quickbooks'; "
        f"fix the id or the company",
        f"{path}:/steps/1/input/Lines/0/Entity: Customer '77' does not exist in connection 'quickbooks'; "
        f"fix the id or the company",
    ]


def run_check(tmp_path, sandbox_url, recipe):
    config = write_config(tmp_path, sandbox_url)
    env = {"LL_TEST_WHSEC": "whsec_test_secret", "LL_TEST_QBO_TOKEN": QBO_TOKEN}
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    return path, run_ledgerlink("check", str(path), "--db", migrated_db(tmp_path), "--config", str(config),
                                env=env)


def test_check_confirms_the_account_types_a_recipe_declares(tmp_path, qbo, sandbox):
    """The journal recipes declare each account's QuickBooks type, so that a line on Accounts
    Receivable without a customer is refused before any request; check holds each declaration
    against the company's chart of accounts, and names an A/R account left undeclared."""
    recipe = json.loads(RECIPE.read_text())
    accounts = recipe["lookups"]["accounts"]
    accounts["undeposited_funds"]["AccountType"] = "Bank"  # the company's is Other Current Asset
    del accounts["accounts_receivable"]["AccountType"]  # the company's is Accounts Receivable
    path, bad = run_check(tmp_path, qbo.url, recipe)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert bad.stdout.splitlines() == [
        f"{path}:/lookups/accounts/undeposited_funds: Account '4' is an Other Current Asset account (the recipe "
        f"declares Bank) in connection 'quickbooks'; correct the declared AccountType or the id",
        f"{path}:/lookups/accounts/accounts_receivable: Account '84' is an Accounts Receivable account in "
        f"connection 'quickbooks'; declare \"AccountType\": \"Accounts Receivable\" beside its Id, so that a "
        f"journal line on it without a Customer is refused before any request",
    ]


def test_check_passes_every_shipped_journal_recipe(tmp_path, qbo, sandbox):
    """Each shipped journal recipe names accounts the sandbox company has, of the declared types."""
    for path in sorted(RECIPES.glob("*-quickbooks-journal.json")):
        (tmp_path / path.stem).mkdir()
        _, result = run_check(tmp_path / path.stem, qbo.url, json.loads(path.read_text()))
        assert result.returncode == 0, path.name + result.stdout + result.stderr


def test_check_prints_the_companys_closed_books_date(tmp_path, qbo, sandbox):
    """Beside the references, check says what the company's runs depend on: the date
    QuickBooks' books are closed through (every entry dated on or before it is refused)."""
    for name in ("open", "closed"):
        (tmp_path / name).mkdir()
    _, open_books = run_check(tmp_path / "open", qbo.url, json.loads(RECIPE.read_text()))
    assert open_books.returncode == 0, open_books.stdout + open_books.stderr
    assert "connection 'quickbooks': the books are not closed" in open_books.stderr
    httpx.post(f"{qbo.url}/__sandbox/preferences", json={"book_close_date": "2024-03-31"},
               timeout=5).raise_for_status()
    path, closed = run_check(tmp_path / "closed", qbo.url, json.loads(RECIPE.read_text()))
    assert closed.returncode == 0 and closed.stdout == ""  # a fact about the company, not a problem
    assert f"{path}: connection 'quickbooks': the books are closed through 2024-03-31 (Preferences " \
           f"BookCloseDate): an entry dated on or before it is refused" in closed.stderr
