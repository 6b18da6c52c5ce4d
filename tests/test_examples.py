"""Every recipe in recipes/ is valid, described, and dry-runs on its trigger's sample."""

import copy
import json

import pytest

from conftest import RECIPES
from ledgerlink import jsonio

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
