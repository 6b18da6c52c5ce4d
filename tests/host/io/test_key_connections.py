"""Key connections: a key the vendor refuses pauses the runs that need it (not retried, not
failed); `ledgerlink connect NAME` checks the key now in the environment and resumes them.

Over real loopback HTTP: the Stripe sandbox accepts one key, a real worker runs a tiny recipe
that marks a Stripe invoice paid, and `ledgerlink connect` runs as a subprocess."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from ledgerlink.contract import Remaining, Request
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.io import keys
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink_sandboxes.stripe import create_sandbox
from runtime_fixtures import ADMIN_TOKEN, signed
from stripe_events import invoice_paid_event

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GOOD = "sk_test_current"
REVOKED = "sk_test_rolled"

RECIPE = {
    "id": "stripe-invoice-paid-mark-paid", "version": 1,
    "description": "Mark the Stripe invoice of an event paid out of band.",
    "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
    "steps": [{"id": "pay", "action": "stripe.mark_invoice_paid", "connection": "stripe",
               "input": {"invoice": {"$path": "$.event.data.object.id"}}}],
}


@pytest.fixture
def stripe(tmp_path, monkeypatch):
    """The sandbox accepting GOOD only, a runtime whose Stripe connection reads its key from
    LL_STRIPE_KEY (REVOKED for now), its API client, and an open invoice in the sandbox."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_STRIPE_KEY", REVOKED)
    with running(create_sandbox(seed="keys", api_keys=[GOOD])) as served:
        config = tmp_path / "ledgerlink.toml"
        config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n'
                          f'api_key = "${{LL_STRIPE_KEY}}"\napi_base = "{served.url}"\n')
        recipes = tmp_path / "recipes"
        recipes.mkdir()
        (recipes / "mark-paid.json").write_text(json.dumps(RECIPE))
        db = migrated_db(tmp_path)
        runtime = build_runtime(db=db, recipes=recipes, config_file=str(config),
                                settings=Settings(backoff_base=0.05, backoff_cap=0.2))
        account = served.sandbox.account
        customer = account.create_customer({"email": "ada@example.com"})
        invoice = account.create_invoice({"customer": customer["id"], "currency": "usd"})
        account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"],
                                     "amount": "12000", "currency": "usd"})
        invoice = account.finalize_invoice(invoice["id"])
        try:
            yield runtime, served, invoice, db, config
        finally:
            runtime.close()


def settle(runtime, expected, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runtime.store.counts() == expected:
            return
        time.sleep(0.05)
    raise AssertionError(runtime.store.counts())


def receive(runtime, invoice_id: str) -> None:
    event = invoice_paid_event("usd", 12000, event_id="evt_key_1")
    event["data"]["object"]["id"] = invoice_id
    body, headers = signed(event)
    runtime.inbox.receive("stripe", headers, body)


def test_a_refused_key_pauses_the_run_and_connect_with_the_new_key_resumes_it_once(stripe, monkeypatch,
                                                                                   run_subprocess):
    runtime, served, invoice, db, config = stripe
    pool = WorkerPool(runtime, 1)
    pool.start()
    try:
        receive(runtime, invoice["id"])
        settle(runtime, {"paused": 1})  # neither retried nor failed
        run = runtime.store.list_runs()[0]
        assert run["attempts"] == 0 and "needs a new key" in run["last_error"]
        assert "replace the secret in the environment, then run `ledgerlink connect stripe`" in run["last_error"]
        assert "connected again" not in run["last_error"]
        assert served.sandbox.account.store.get("invoice", invoice["id"])["status"] == "open"

        client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
        rows = {r["name"]: r for r in client.get("/api/connections", headers=AUTH).get_json()["connections"]}
        assert rows["stripe"]["status"] == "needs_new_key" and rows["stripe"]["paused_runs"] == 1
        warnings = client.get("/healthz", headers=AUTH).get_json()["warnings"]
        assert any("'stripe' is needs_new_key" in w and "ledgerlink connect stripe" in w for w in warnings)
        assert 'ledgerlink_connection_needs_reauth{connection="stripe"} 1.0' in \
            client.get("/metrics", headers=AUTH).get_data(as_text=True)
        listed = run_subprocess("connections", "--db", db, "--config", str(config), env={"LL_STRIPE_KEY": REVOKED})
        assert "needs_new_key" in listed.stdout and "1 run(s) paused" in listed.stdout

        # the key is replaced in the environment; connect checks it and the run resumes
        monkeypatch.setenv("LL_STRIPE_KEY", GOOD)
        connected = run_subprocess("connect", "stripe", "--db", db, "--config", str(config),
                                   env={"LL_STRIPE_KEY": GOOD})
        assert connected.returncode == 0, connected.stderr
        assert "1 paused run(s) resumed" in connected.stdout and GOOD not in connected.stdout + connected.stderr
        settle(runtime, {"succeeded": 1})
        assert served.sandbox.account.store.get("invoice", invoice["id"])["status"] == "paid"
        rows = {r["name"]: r for r in client.get("/api/connections", headers=AUTH).get_json()["connections"]}
        assert rows["stripe"]["status"] == "ok" and rows["stripe"]["paused_runs"] == 0
        assert client.get("/healthz", headers=AUTH).get_json()["warnings"] == []
    finally:
        pool.stop()
    assert len(runtime.store.list_runs()) == 1  # exactly once


def test_connect_with_a_still_wrong_key_says_so_and_resumes_nothing(stripe, run_subprocess):
    runtime, served, invoice, db, config = stripe
    pool = WorkerPool(runtime, 1)
    pool.start()
    try:
        receive(runtime, invoice["id"])
        settle(runtime, {"paused": 1})
        refused = run_subprocess("connect", "stripe", "--db", db, "--config", str(config),
                                 env={"LL_STRIPE_KEY": REVOKED})
        assert refused.returncode == 1
        assert "the key of 'stripe' was not accepted" in refused.stderr and "nothing resumed" in refused.stderr
        assert REVOKED not in refused.stdout + refused.stderr
        assert runtime.store.counts() == {"paused": 1}
        assert runtime.store.count_paused("stripe") == 1
        assert served.sandbox.account.store.get("invoice", invoice["id"])["status"] == "open"
    finally:
        pool.stop()


def test_a_connector_without_a_key_check_resumes_on_connect_with_a_warning(stripe):
    runtime, served, invoice, db, config = stripe
    pool = WorkerPool(runtime, 1)
    pool.start()
    try:
        receive(runtime, invoice["id"])
        settle(runtime, {"paused": 1})
    finally:
        pool.stop()
    connector = runtime.catalog.connectors["stripe"]
    runtime.catalog.connectors["stripe"] = dataclasses.replace(connector, check_credentials=None)
    checked = keys.check(runtime.connections, "stripe")
    assert checked.ok and checked.unchecked and checked.resumed == 1
    assert "nothing was checked" in checked.message
    assert runtime.store.counts() == {"pending": 1}
    assert keys.status(runtime.connections, "stripe")[0] == "ok"


def test_the_transport_hands_what_each_answer_says_remains_to_the_governor(stripe, monkeypatch):
    """A connector that reads the vendor's remaining counts (``read_remaining``) gets them
    narrowed into the governor by the worker's transport, after every answer."""
    runtime, served, invoice, db, config = stripe
    monkeypatch.setenv("LL_STRIPE_KEY", GOOD)
    runtime.connections.forget("stripe")
    seen: list[tuple[str, Remaining]] = []
    connector = runtime.catalog.connectors["stripe"]
    runtime.catalog.connectors["stripe"] = dataclasses.replace(
        connector, read_remaining=lambda headers: Remaining(window=int(headers.get("x-left", "7"))))
    monkeypatch.setattr(runtime.governor, "narrow", lambda key, limits, remaining: seen.append((key, remaining)))
    send = runtime.connections.transport("stripe")
    answer = send(Request("GET", f"{served.url}/v1/invoices/{invoice['id']}"))
    assert answer.status == 200 and seen == [("stripe:stripe", Remaining(window=7))]
