"""A FreshBooks write whose answer was lost, through the host: FreshBooks keeps no idempotency
key, so the worker looks the invoice up before it sends anything again — never a twin.

The FreshBooks sandbox commits the invoice, then loses its answer (a gateway's 504) or cuts it
in half; a paid Stripe invoice goes through a recipe of three steps (the client, the invoice,
its payment). Each run ends with one client, one invoice and one payment in FreshBooks, and
the attempt after the lost answer read (GET) instead of writing. So does the attempt after one
that died without a word, its invoice committed but nothing logged."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from fb_connector import RECIPE
from fb_sandbox import ACCOUNT, TOKEN, call, result, served
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.testing.databases import migrated_db
from ledgerlink_sandboxes.freshbooks import faults
from runtime_fixtures import signed
from stripe_events import invoice_paid_event

@pytest.fixture
def runtime_on(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_FB_TOKEN", TOKEN)
    made = []

    def make(url: str):
        recipes = tmp_path / "recipes"
        recipes.mkdir(exist_ok=True)
        (recipes / f"{RECIPE['id']}.json").write_text(json.dumps(RECIPE))
        config = tmp_path / "ledgerlink.toml"
        config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
                          f'[connections.freshbooks]\nconnector = "freshbooks"\napi_base = "{url}"\n'
                          f'account_id = "{ACCOUNT}"\naccess_token = "${{LL_TEST_FB_TOKEN}}"\n')
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config),
                                settings=Settings(backoff_base=0.02, backoff_cap=0.1))
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def settle(runtime, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = runtime.store.counts()
        if counts and not any(counts.get(s) for s in ("pending", "running", "retrying")):
            return counts
        time.sleep(0.02)
    raise AssertionError(f"runs did not settle: {runtime.store.counts()}")


@pytest.mark.parametrize("answer, first", [("lost", "failed"), ("truncated", "unknown")])
def test_a_committed_invoice_whose_answer_was_lost_is_looked_up_not_made_twice(runtime_on, answer, first):
    with served() as (loop, _):
        loop.sandbox.faults.add(faults.parse([{"answer": answer, "match": {"method": "POST",
                                                                           "resource": "invoices/invoices"}}]))
        runtime = runtime_on(loop.url)
        event = invoice_paid_event("usd", 4321, event_id=f"evt_fb_{answer}")
        body, headers = signed(event)
        runtime.inbox.receive("stripe", headers, body)
        pool = WorkerPool(runtime, 1)
        pool.start()
        try:
            counts = settle(runtime)
        finally:
            pool.stop()
        business = loop.sandbox.business(ACCOUNT)
        invoices = [i for i in business.all("invoices") if i["po_number"] == event["data"]["object"]["id"]]
        payments = business.all("payments")
    assert counts == {"succeeded": 1}, runtime.store.run(1)
    assert len(invoices) == 1 and invoices[0]["v3_status"] == "paid" and invoices[0]["amount"]["amount"] == "43.21"
    assert len(payments) == 1 and len(business.all("clients")) == 1
    steps = [s for s in runtime.store.run(1)["steps"] if s["step_id"] == "invoice"]
    assert [s["status"] for s in steps] == [first, "succeeded"]
    assert steps[1]["request"]["method"] == "GET"  # looked up, found: nothing sent again
    assert steps[1]["external_id"] == str(invoices[0]["id"])
    assert runtime.metrics.values.get("lost_writes_looked_up") == 1


def test_ledgerlink_runs_undo_deletes_the_payment_then_the_invoice_and_keeps_the_shared_client(runtime_on):
    from ledgerlink.engine.operations import undo

    with served() as (loop, _):
        runtime = runtime_on(loop.url)
        event = invoice_paid_event("jpy", 1500, event_id="evt_fb_undo")
        body, headers = signed(event)
        runtime.inbox.receive("stripe", headers, body)
        pool = WorkerPool(runtime, 1)
        pool.start()
        try:
            assert settle(runtime) == {"succeeded": 1}
        finally:
            pool.stop()
        business = loop.sandbox.business(ACCOUNT)
        (invoice,) = business.all("invoices")
        assert (invoice["v3_status"], invoice["amount"]["amount"], invoice["currency_code"]) == ("paid", "1500", "JPY")
        result = undo(runtime, 1)
        again = undo(runtime, 1)
        states = {name: [item["vis_state"] for item in business.all(name)] for name in ("payments", "invoices")}
        clients = [client["vis_state"] for client in business.objects["clients"].values()]
    assert [(item["target"], item["status"]) for item in result["undone"]] == [
        ("freshbooks.create_payment", "deleted"), ("freshbooks.create_invoice", "deleted")]
    assert [item["target"] for item in result["kept"]] == ["freshbooks.client"]
    assert states == {"payments": [1], "invoices": [1]} and clients == [0]
    assert again["status"] == "undone" and again["undone"] == []


def test_an_invoice_written_by_an_attempt_that_died_unlogged_is_looked_up_not_made_twice(runtime_on):
    """An attempt that ended without a word — its worker killed with SIGKILL, or its lease
    lost, after FreshBooks committed the invoice and before the run log recorded anything:
    the next attempt looks the invoice up before it sends it. The dead worker is played by
    claiming the run under a lease already over and writing the client and invoice as the
    recipe's steps write them, logging nothing; then a worker takes the run over."""
    with served() as (loop, _):
        runtime = runtime_on(loop.url)
        event = invoice_paid_event("usd", 5150, event_id="evt_fb_silent")
        invoice = event["data"]["object"]
        body, headers = signed(event)
        runtime.inbox.receive("stripe", headers, body)
        # the dead worker: claimed the run, then its lease ran out (it was killed) ...
        [claimed] = runtime.store.claim("dead-worker", -1.0)  # a lease already over
        assert claimed.attempts == 1
        # ... after FreshBooks had committed what its first two steps sent
        client = result(call(loop, "POST", "users/clients", {"client": {
            "organization": invoice["customer_email"] or "Stripe customer",
            "note": f"ledgerlink source {invoice['customer']}"}}))["client"]
        day = time.strftime("%Y-%m-%d", time.gmtime(invoice["created"]))
        made = result(call(loop, "POST", "invoices/invoices", {"invoice": {
            "customerid": client["id"], "create_date": day, "currency_code": "USD", "po_number": invoice["id"],
            "lines": [{"type": 0, "name": "Stripe invoice", "qty": "1",
                       "unit_cost": {"amount": "51.50", "code": "USD"}}]}}))["invoice"]
        pool = WorkerPool(runtime, 1)
        pool.start()
        try:
            counts = settle(runtime)
        finally:
            pool.stop()
        business = loop.sandbox.business(ACCOUNT)
        invoices = [i for i in business.all("invoices") if i["po_number"] == invoice["id"]]
        payments = business.all("payments")
        listed = httpx.get(f"{loop.url}/accounting/account/{ACCOUNT}/invoices/invoices",
                           headers={"Authorization": f"Bearer {TOKEN}"}).json()["response"]["result"]
    assert counts == {"succeeded": 1}, runtime.store.run(1)
    assert [i["id"] for i in invoices] == [made["id"]] and listed["total"] == 1  # no twin
    assert len(payments) == 1 and invoices[0]["v3_status"] == "paid"
    steps = {s["step_id"]: s for s in runtime.store.run(1)["steps"]}
    assert steps["invoice"]["attempt"] == 2 and steps["invoice"]["request"]["method"] == "GET"  # looked up
    assert steps["invoice"]["external_id"] == str(made["id"])
