"""What the export and reconciliation tests of the engine share: a runtime over ``tally``, an
in-test ledger connector (each test registers its own, with what it needs), whose real
workers booked two paid invoices delivered through Stripe's webhook, signed as Stripe signs
them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pluggy
import pytest

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.contract import Entry
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from runtime_fixtures import WEBHOOK_SECRET, signed, working
from stripe_events import invoice_paid_event

CONFIG = ('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
          '[connections.tally]\nconnector = "tally"\n')
#: the input of a recipe's step booking a paid invoice's amount through ``tally.book``
PAYMENT_INPUT = {"amount": {"$path": "$.event.data.object.amount_paid", "$as": "stripe.money",
                            "currency": {"$path": "$.event.data.object.currency"}},
                 "currency": {"$path": "$.event.data.object.currency", "$as": "upper"},
                 "date": {"$path": "$.event.created", "$as": "date"}}


def recipe(payment: dict[str, Any], fee: dict[str, Any]) -> dict[str, Any]:
    """The recipe booking each paid invoice (``payment``, the step's input) and a fee (``fee``)."""
    return {
        "id": "invoice-paid-to-tally", "version": 1, "description": "Paid invoices and their fees, booked.",
        "timezone": "UTC",
        "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
        "steps": [{"id": "payment", "action": "tally.book", "connection": "tally", "input": payment},
                  {"id": "fee", "action": "tally.book", "connection": "tally", "input": fee}],
    }


#: the invoices booked: (currency, amount in minor units)
INVOICES = (("usd", 123456), ("jpy", 1500))


def entry(data: dict[str, Any], output: Any) -> Entry:
    """The ``tally.book`` action's entry: the amount it booked."""
    return Entry(date=data["date"], amount=Decimal(str(data["amount"])), currency=data["currency"])


def booked_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugin: object, recipe: dict[str, Any],
           event_prefix: str, prepare: Callable[[Runtime], None] | None = None
           ) -> tuple[Runtime, pluggy.PluginManager, Path]:
    """(runtime, plugins, config file): the runtime, open (the caller closes it), after real
    workers ran ``recipe`` on the :data:`INVOICES` paid (events ``<event_prefix>_<currency>``);
    ``prepare(runtime)`` is called before the workers start."""
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / f"{recipe['id']}.json").write_text(json.dumps(recipe))
    config = tmp_path / "ledgerlink.toml"
    config.write_text(CONFIG)
    plugins = build_plugin_manager(extra=[("tally", plugin)])
    catalog = load_catalog(plugins)
    runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), recipes,
                      Settings(backoff_base=0.05, backoff_cap=0.2))
    if prepare is not None:
        prepare(runtime)
    runtime.registry.reload()
    try:
        with working(runtime):
            for currency, amount in INVOICES:
                body, headers = signed(invoice_paid_event(currency, amount, event_id=f"{event_prefix}_{currency}"))
                runtime.inbox.receive("stripe", headers, body)
            deadline = time.monotonic() + 60  # waited for, not timed
            while runtime.store.counts() != {"succeeded": 2} and time.monotonic() < deadline:
                time.sleep(0.05)
        assert runtime.store.counts() == {"succeeded": 2}
    except BaseException:
        runtime.close()
        raise
    return runtime, plugins, config
