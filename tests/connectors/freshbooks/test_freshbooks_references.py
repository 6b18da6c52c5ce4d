"""ledgerlink check for a recipe that names FreshBooks ids: a client, an invoice or an expense
category the business does not have (or has deleted) is reported with the recipe's pointer,
before the first live event; read from the FreshBooks sandbox."""

from __future__ import annotations

import json

from fb_connector import RECIPE, context, sandbox
from fb_sandbox import ACCOUNT, TOKEN
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.preflight import check
from ledgerlink.testing import drive
from ledgerlink.testing.databases import migrated_db
from ledgerlink_freshbooks import CONNECTOR
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT


def test_missing_and_deleted_ids_are_named():
    with sandbox() as (loop, _, send):
        ctx = context(loop)
        alive = drive(FIND_OR_CREATE_CLIENT.perform({"source_id": "cus_r1", "organization": "R1"}, ctx), send).value
        dead = drive(FIND_OR_CREATE_CLIENT.perform({"source_id": "cus_r2", "organization": "R2"}, ctx), send).value
        drive(FIND_OR_CREATE_CLIENT.undo(dead["id"], ctx), send)
        clients = drive(CONNECTOR.check_references("client", [alive["id"], dead["id"], "999999"], ctx.connection),
                        send).value
        categories = [str(c["id"]) for c in loop.sandbox.business(ACCOUNT).all("categories")]
        known = drive(CONNECTOR.check_references("category", [categories[0], "1"], ctx.connection), send).value
    assert clients == {dead["id"]: "is deleted (restore it in FreshBooks, or name another)", "999999": "does not exist"}
    assert known == {"1": "does not exist"}


def test_ledgerlink_check_reports_a_recipes_unknown_category_with_its_pointer(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_FB_TOKEN", TOKEN)
    recipe = {**RECIPE, "id": "fees-test", "trigger": {"event": "stripe.payout.paid", "connection": "stripe"},
              "steps": [{"id": "fees", "action": "freshbooks.create_expense", "connection": "freshbooks",
                         "input": {"source_id": {"$path": "$.event.data.object.id"}, "amount": "1.00",
                                   "currency_code": "USD", "date": "2026-11-30", "categoryid": "424242"}}]}
    with sandbox() as (loop, _, _send):
        recipes = tmp_path / "recipes"
        recipes.mkdir()
        (recipes / "fees-test.json").write_text(json.dumps(recipe))
        config = tmp_path / "ledgerlink.toml"
        config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
                          f'[connections.freshbooks]\nconnector = "freshbooks"\napi_base = "{loop.url}"\n'
                          f'account_id = "{ACCOUNT}"\naccess_token = "${{LL_TEST_FB_TOKEN}}"\n')
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config))
        try:
            problems = check(runtime.registry.active()["fees-test"], runtime)
        finally:
            runtime.close()
    assert [str(p) for p in problems] and all("424242" in str(p) for p in problems)
    assert any("/steps/0/input/categoryid" in str(p) and "does not exist" in str(p) for p in problems)
