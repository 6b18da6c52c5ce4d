"""Through the host's inbox and a worker: a Stripe connection with an api_key has its
invoice.paid webhook enriched from the Stripe sandbox on loopback before its runs are planned;
one without a key plans its runs at once, nothing fetched."""

from __future__ import annotations

import copy

import pytest

from ledgerlink import jsonio
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from runtime_fixtures import QBO_TOKEN, recipes_dir, signed

KEY = "sk_test_sandbox"


@pytest.fixture
def stripe():
    with running(create_sandbox(seed="inbox", rate_limit=False)) as served:
        yield served


@pytest.fixture
def make_runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_STRIPE_KEY", KEY)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    made = []

    def make(api_base: str, with_key: bool) -> Runtime:
        key = 'api_key = "${LL_TEST_STRIPE_KEY}"\n' if with_key else ""
        path = tmp_path / "ledgerlink.toml"
        path.write_text(
            f'[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${{LL_TEST_WHSEC}}"\n'
            f'api_base = "{api_base}"\n{key}\n'
            '[connections.quickbooks]\nconnector = "quickbooks"\nbase_url = "http://127.0.0.1:9"\n'
            'realm_id = "9130350000000000"\naccess_token = "${LL_TEST_QBO_TOKEN}"\n')
        catalog = load_catalog(build_plugin_manager())
        runtime = Runtime(catalog, load_config(path, catalog), Store(migrated_db(tmp_path)), recipes_dir(tmp_path),
                          Settings(max_attempts=3, backoff_base=0.01, backoff_cap=0.01))
        runtime.registry.reload()
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def paid_invoice_event(account) -> dict:
    customer = account.create_customer({"email": "ada@example.com", "name": "Ada"})
    invoice = account.create_invoice({"customer": customer["id"], "currency": "eur"})
    account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"],
                                 "amount": "8800", "currency": "eur"})
    paid = account.pay_invoice(account.finalize_invoice(invoice["id"])["id"])
    event = next(e for e in reversed(account.store.objects["event"].values()) if e["type"] == "invoice.paid")
    return paid, copy.deepcopy(event)


def test_a_connection_with_a_key_enriches_before_planning(make_runtime, stripe):
    account = stripe.sandbox.account
    paid, event = paid_invoice_event(account)
    runtime = make_runtime(stripe.url, with_key=True)
    runtime.inbox.receive("stripe", *reversed(signed(event)))
    worker = Worker(runtime)
    assert runtime.store.claim(worker.name, 60, 10) == []  # nothing planned before the fetch
    (claimed,) = runtime.store.claim_fetches(worker.name, 60, 10)
    assert worker.fetch(claimed) == "done"
    stored = jsonio.loads(runtime.store.event(claimed.id)["payload"])
    charge = account.store.get("charge", paid["charge"])
    expected = account.store.served(account.store.get("balance_transaction", charge["balance_transaction"]))
    assert stored["balance_transaction"] == expected and stored["id"] == event["id"]
    assert stripe.sandbox.api.requests == 1  # the charge, its balance transaction expanded
    (run,) = runtime.store.claim(worker.name, 60, 10)
    assert run.event_id == event["id"]


def test_a_connection_without_a_key_plans_at_once_and_fetches_nothing(make_runtime, stripe):
    account = stripe.sandbox.account
    _, event = paid_invoice_event(account)
    requests_before = stripe.sandbox.api.requests
    runtime = make_runtime(stripe.url, with_key=False)
    runtime.inbox.receive("stripe", *reversed(signed(event)))
    worker = Worker(runtime)
    assert runtime.store.claim_fetches(worker.name, 60, 10) == []
    (run,) = runtime.store.claim(worker.name, 60, 10)
    stored = jsonio.loads(runtime.store.event(run.event_pk)["payload"])
    assert "balance_transaction" not in stored and stored == event
    assert stripe.sandbox.api.requests == requests_before  # Stripe was never asked
