"""docs/alerts.md and docs/notify.md hold: their configurations load with the catalog, and
every shipped alert recipe validates against them and dry-runs to a message or a Slack body."""

from __future__ import annotations

import json
import re

import pytest

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.recipes.recipe import load_recipe
from runtime_fixtures import RECIPES
from vendor_files import REPO

ENV = {"SMTP_PASSWORD": "smtp-password-9d0c",
       "SLACK_WEBHOOK_URL": "https://hooks.example.com/services/T0/B0/abc123", "NOTIFY_SIGNING_SECRET": "sign-77e1"}


def toml_of(page: str) -> str:
    """Every TOML block of the page, as one configuration."""
    return "\n".join(re.findall(r"```toml\n(.*?)```", (REPO / "docs" / page).read_text(), re.S))


@pytest.fixture
def config(tmp_path, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    catalog = load_catalog()
    path = tmp_path / "ledgerlink.toml"
    path.write_text(toml_of("alerts.md"))
    return catalog, load_config(path, catalog)


def test_the_notify_page_configuration_loads(tmp_path, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    catalog = load_catalog()
    path = tmp_path / "ledgerlink.toml"
    path.write_text(toml_of("notify.md"))
    loaded = load_config(path, catalog)
    assert set(loaded.connections) == {"alerts_email", "alerts_slack"}


@pytest.mark.parametrize("recipe", sorted(p.name for p in (RECIPES / "alerts").glob("*.json")))
def test_each_alert_recipe_dry_runs_to_what_it_would_send(config, recipe):
    catalog, loaded = config
    report = dry_run(load_recipe(RECIPES / "alerts" / recipe, catalog, loaded), catalog, loaded)
    [step] = report["steps"]
    shown = step["request"]
    if recipe.endswith("-email.json"):
        assert shown["kind"] == "mail" and shown["recipients"] == ["books@example.com"]
        assert shown["server"] == {"host": "smtp.example.com", "port": 587, "security": "starttls"}
        # each alert names its fix: the commands of the trigger's sample event
        fix = {"needs": "Fix: ledgerlink connect books", "reconcile": "Fix: ledgerlink reconcile --since 2026-04-01",
               "webhook": "Fix: compare the connection's signing secret", "sync": "Fix: ledgerlink runs show 57"}
        assert fix.get(recipe.split("-")[1], "Fix: ledgerlink runs") in shown["message"]
    else:
        assert shown["url"].startswith("[REDACTED]") and "hooks.example.com" not in str(report)
        assert set(shown["body"]) == {"text", "blocks"} and "ledgerlink " in json.dumps(shown["body"]["blocks"])
    assert not any(secret in str(report) for secret in ENV.values())
