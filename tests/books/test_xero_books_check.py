"""``ledgerlink check`` on the Xero booking recipes against the Xero sandbox: before the accounts
``docs/xero.md`` lists exist it names each missing code and where the recipe uses it; once
they exist it passes; a code of the wrong kind (an expense account where a bank account must
be, a bank account in a manual journal) and an archived account are named with the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from xero_books import MODES, NEW_ACCOUNTS, client, create_accounts

MODE_1_INVOICE = MODES["clearing"] / "stripe-invoice-paid-to-xero-payment-into-clearing.json"
MODE_2_SUMMARY = MODES["payout-summary"] / "stripe-payout-paid-to-xero-summary-journal.json"


@pytest.fixture
def xero(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_XERO_TOKEN", "xero-sandbox-access-token")
    with running(create_sandbox(rate_limit=False)) as served:
        config = tmp_path / "ledgerlink.toml"
        config.write_text(f'[connections.xero]\nconnector = "xero"\napi_base = "{served.url}/api.xro/2.0"\n'
                          f'tenant_id = "{DEFAULT_TENANT}"\naccess_token = "${{LL_TEST_XERO_TOKEN}}"\n')
        yield served, config, migrated_db(tmp_path)


def check(run_cli, tmp_path: Path, xero: tuple, recipe: Path, **lookups: dict[str, str]) -> tuple[int, str]:
    """``ledgerlink check`` of ``recipe`` with ``lookups`` merged in; (exit code, what it printed)."""
    raw = json.loads(recipe.read_text())
    for table, rows in lookups.items():
        raw["lookups"][table] = {**raw["lookups"][table], **rows}
    raw.pop("$schema")
    path = tmp_path / recipe.name
    path.write_text(json.dumps(raw))
    _, config, db = xero
    code, out, err = run_cli("check", str(path), "--config", str(config), "--db", db)
    return code, out + err


def test_check_names_each_missing_code_then_passes_once_the_accounts_exist(run_cli, tmp_path, xero):
    served = xero[0]
    code, said = check(run_cli, tmp_path, xero, MODE_1_INVOICE)
    assert code == 1
    assert "BankAccount '099' does not exist" in said and "PaymentAccount '099' does not exist" in said
    assert "Account '406' does not exist" in said and "/lookups/clearing/usd" in said
    assert "'200'" not in said and "TaxRate" not in said  # Sales and NONE are the organisation's
    with client(served.url) as api:
        create_accounts(api)
    for recipe in sorted(MODES["clearing"].glob("*.json")) + sorted(MODES["payout-summary"].glob("*.json")):
        code, said = check(run_cli, tmp_path, xero, recipe)
        assert code == 0 and "every referenced id exists and is active" in said, said


def test_check_names_an_account_of_the_wrong_kind_and_an_archived_one_with_the_fix(run_cli, tmp_path, xero):
    served = xero[0]
    with client(served.url) as api:
        create_accounts(api, accounts={**NEW_ACCOUNTS, "480": ("Old Fees", "EXPENSE")})
    served.sandbox.orgs[DEFAULT_TENANT].account_by_code("480")["Status"] = "ARCHIVED"  # archived in Xero's app
    code, said = check(run_cli, tmp_path, xero, MODE_1_INVOICE, clearing={"usd": "406"}, fees={"stripe_fee": "480"})
    assert code == 1
    assert "BankAccount '406' is of Type EXPENSE, not a bank account" in said and "name a BANK account" in said
    assert "Account '480' is archived" in said
    code, said = check(run_cli, tmp_path, xero, MODE_2_SUMMARY, in_transit={"usd": "090"})
    assert code == 1 and "JournalAccount '090' is a bank account, which Xero posts no manual journal to" in said
