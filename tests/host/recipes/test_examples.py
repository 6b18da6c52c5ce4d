"""Every recipe in recipes/ is valid, described, and dry-runs on its trigger's sample."""

import copy
import json

import pytest

from runtime_fixtures import RECIPES
from ledgerlink import jsonio
from stripe_events import invoice_paid_event

FILES = sorted(RECIPES.glob("*.json"))


def test_there_are_example_recipes():
    names = {p.name for p in FILES}
    assert "stripe-invoice-paid-to-quickbooks-journal.json" in names
    assert "stripe-credit-note-to-quickbooks-journal.json" in names


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_recipe_validates_and_dry_runs(path, run_cli):
    recipe = json.loads(path.read_text())
    assert path.stem == recipe["id"], "name the file after the recipe id"
    assert len(recipe["description"].split()) >= 12, "say in plain English what the recipe does"
    code, out, err = run_cli("validate", str(path))
    assert code == 0, out + err
    code, out, err = run_cli("dry-run", str(path))
    assert code == 0, err
    report = jsonio.loads(out)
    assert report["matched"] is True
    assert report["recipe"] == {"id": recipe["id"], "version": recipe["version"], "file": str(path)}
    for step in report["steps"]:
        assert step["status"] == "would_run"
        assert step["request"]["method"] in ("POST", "GET", "PUT", "DELETE")
        assert step["request"]["url"].startswith("https://")


JOURNALS = [p for p in FILES if p.stem.endswith("-quickbooks-journal")]


@pytest.mark.parametrize("path", JOURNALS, ids=[p.name for p in JOURNALS])
def test_journal_recipes_say_a_foreign_currency_needs_an_exchange_rate(path, run_cli, tmp_path, catalog):
    recipe = json.loads(path.read_text())
    assert "currency other than the company's home currency" in recipe["description"]
    assert "until the recipe maps an ExchangeRate" in recipe["description"]
    for step in recipe["steps"]:  # no rate is made up: a literal one would book every event at it
        assert not isinstance(step["input"].get("ExchangeRate"), (str, int, float))
    # and so it is: the trigger's sample event in EUR, for the default (USD) company
    event = copy.deepcopy(catalog.triggers[recipe["trigger"]["event"]].sample)
    event["data"]["object"]["currency"] = "eur"
    event_file = tmp_path / "event.json"
    event_file.write_text(jsonio.dumps(event))
    code, _, err = run_cli("dry-run", str(path), "--event", str(event_file))
    assert code == 1 and "CurrencyRef is EUR, not the company's home currency USD" in err


def dry_run_on(run_cli, tmp_path, path, event):
    event_file = tmp_path / "event.json"
    event_file.write_text(jsonio.dumps(event))
    return run_cli("dry-run", str(path), "--event", str(event_file))


RECEIVABLE_JOURNALS = [RECIPES / "stripe-invoice-paid-to-quickbooks-journal.json",
                       RECIPES / "stripe-credit-note-to-quickbooks-journal.json"]


@pytest.mark.parametrize("path", RECEIVABLE_JOURNALS, ids=[p.name for p in RECEIVABLE_JOURNALS])
def test_journal_recipes_credit_receivables_on_any_customer(path, run_cli, tmp_path, catalog):
    """QuickBooks refuses an Accounts Receivable line without a customer: the journal recipes
    find or create the event's customer first, whoever it is, and credit A/R on it."""
    recipe = json.loads(path.read_text())
    event = copy.deepcopy(catalog.triggers[recipe["trigger"]["event"]].sample)
    event["data"]["object"]["customer"] = "cus_NewToTheBooks"
    code, out, err = dry_run_on(run_cli, tmp_path, path, event)
    assert code == 0, err
    customer, entry = jsonio.loads(out)["steps"]
    assert customer["action"] == "quickbooks.find_or_create_customer"
    assert customer["link_lookups"][0]["source_id"] == "cus_NewToTheBooks"
    receivable = [line["JournalEntryLineDetail"] for line in entry["request"]["body"]["Line"]
                  if line["JournalEntryLineDetail"]["AccountRef"]["value"] == "84"]
    assert receivable and all(detail["Entity"] == {"Type": "Customer", "EntityRef": {
        "value": customer["sample_output"]["id"]}} for detail in receivable)


def test_a_receivable_line_that_may_lack_its_customer_fails_the_dry_run(run_cli, tmp_path):
    """A recipe whose A/R line names a customer only when a table knows it: the account declared
    Accounts Receivable, a dry-run on an unknown customer's event fails as QuickBooks would."""
    recipe = json.loads(RECEIVABLE_JOURNALS[0].read_text())
    recipe["steps"] = [step for step in recipe["steps"] if step["id"] == "entry"]
    recipe["lookups"]["accounts"]["accounts_receivable"] = {"value": "84", "AccountType": "Accounts Receivable"}
    recipe["lookups"]["customers"] = {"cus_Oaxlz8kB0PJWGa": {"Type": "Customer", "EntityRef": "1"}}
    recipe["steps"][0]["input"]["Lines"][1]["Entity"] = {
        "$lookup": "customers", "key": {"$path": "$.event.data.object.customer"}, "$default": None,
        "$optional": True}
    path = tmp_path / f"{recipe['id']}.json"
    path.write_text(json.dumps(recipe))
    code, out, err = run_cli("dry-run", str(path))  # the sample's customer is in the table
    assert code == 0, err
    assert jsonio.loads(out)["steps"][0]["status"] == "would_run"
    event = invoice_paid_event("usd", 1000)
    event["data"]["object"]["customer"] = "cus_NotInTheTable"
    code, out, err = dry_run_on(run_cli, tmp_path, path, event)
    assert code == 1 and out == ""
    assert ("/Lines/1/Entity: missing; QuickBooks refuses a line on an Accounts Receivable account (the "
            "account's declared AccountType) without a Customer") in err
    assert "Traceback" not in err


def test_the_refund_journal_is_dated_on_the_refund_not_the_charge(run_cli, tmp_path, catalog):
    """A charge made in January and refunded in May is booked in May: on the refund's own
    creation time when the event carries the refund, else on the event's (Stripe sends
    charge.refunded when the refund is made), never on the charge's."""
    path = RECIPES / "stripe-charge-refunded-to-quickbooks-journal.json"
    event = copy.deepcopy(catalog.triggers["stripe.charge.refunded"].sample)
    charge = event["data"]["object"]
    charge["created"] = 1673784000  # 2023-01-15 12:00 UTC
    event["created"] = 1683028800  # 2023-05-02 12:00 UTC
    charge["refunds"] = {"object": "list", "data": [], "has_more": False, "url": "/v1/refunds"}
    code, out, err = dry_run_on(run_cli, tmp_path, path, event)
    assert code == 0, err
    assert jsonio.loads(out)["steps"][-1]["request"]["body"]["TxnDate"] == "2023-05-02"
    charge["refunds"]["data"] = [{"id": "re_1", "object": "refund", "amount": charge["amount_refunded"],
                                  "charge": charge["id"], "created": 1682683200,  # 2023-04-28 12:00 UTC
                                  "currency": charge["currency"], "status": "succeeded"}]
    code, out, err = dry_run_on(run_cli, tmp_path, path, event)
    assert code == 0, err
    assert jsonio.loads(out)["steps"][-1]["request"]["body"]["TxnDate"] == "2023-04-28"
