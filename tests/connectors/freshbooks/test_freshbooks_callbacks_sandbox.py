"""FreshBooks' callbacks through the host, against the FreshBooks sandbox over loopback HTTP.

ledgerlink serves on loopback; ``register`` (``ledgerlink webhooks register``) creates the
callback in the sandbox, which POSTs its verification code to ledgerlink; the code is kept
pending, confirmed with the sandbox and only then signs. A payment recorded in the sandbox is
POSTed, signed over ``json.dumps`` of the form fields, stored, fetched through the connector
and planned once; a redelivery changes nothing; the poll brings the same run.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import httpx
import pytest

from fb_sandbox import ACCOUNT, TOKEN, call, result, served
from ledgerlink import jsonio
from ledgerlink.contract.subscriptions import PENDING, SIGNING
from ledgerlink.io.subscriptions import listed, register
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.freshbooks.callbacks import HEADER, signature

RECIPE = {
    "id": "freshbooks-payment-note", "version": 1,
    "description": "A payment recorded in FreshBooks reads the Stripe invoice its note names.",
    "trigger": {"event": "freshbooks.payment.created", "connection": "freshbooks"},
    "steps": [{"id": "read", "action": "stripe.retrieve_invoice", "connection": "stripe",
               "input": {"invoice": {"$path": "$.event.data.note"}}}],
}


def configured(sandbox_url: str, folder, monkeypatch, poll: bool = False) -> tuple[str, str, str]:
    """A database, a configuration and a recipe folder for a FreshBooks connection to the sandbox."""
    from ledgerlink.io.secrets import new_key
    from ledgerlink.testing.databases import migrated_db

    folder.mkdir()
    monkeypatch.setenv("LL_TEST_FB_TOKEN", TOKEN)
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    config = folder / "ledgerlink.toml"
    config.write_text(f'[connections.freshbooks]\nconnector = "freshbooks"\naccount_id = "{ACCOUNT}"\n'
                      f'api_base = "{sandbox_url}"\naccess_token = "${{LL_TEST_FB_TOKEN}}"\n'
                      + ('poll_seconds = 60\npoll_since = "2026-01-01"\n' if poll else ""))
    recipes = folder / "recipes"
    recipes.mkdir()
    (recipes / "payment.json").write_text(json.dumps(RECIPE))
    return migrated_db(folder), str(config), str(recipes)


def runtime_on(sandbox_url: str, folder, monkeypatch, poll: bool = False):
    from ledgerlink.engine.operations import build_runtime

    db, config, recipes = configured(sandbox_url, folder, monkeypatch, poll)
    runtime = build_runtime(db=db, recipes=recipes, config_file=config)
    runtime.connections.secret_box.cache_seconds = 0.0
    return runtime


def stored_events(runtime) -> int:
    with runtime.store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM events").scalar()


def until(check, what: str, seconds: float = 30.0):
    """Wait for the sandbox's delivery thread (the wait is not what is tested)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen")
        time.sleep(0.05)


def paid_invoice(loop) -> dict:
    customer = result(call(loop, "POST", "users/clients", {"client": {"email": "buyer@example.com"}}))["client"]
    bill = result(call(loop, "POST", "invoices/invoices", {"invoice": {
        "customerid": customer["id"], "create_date": "2026-11-30",
        "lines": [{"type": 0, "name": "Plan", "qty": "1", "unit_cost": {"amount": "41.94"}}]}}))["invoice"]
    return result(call(loop, "POST", "payments/payments", {"payment": {
        "invoiceid": bill["id"], "amount": {"amount": "41.94"}, "date": "2026-12-01", "type": "Credit Card",
        "note": "in_1NpHiG2eZvKYlo2CeGwtPsKC"}}))["payment"]


@pytest.fixture
def sandbox():
    with served(callback_retry_seconds=[0.05]) as (loop, _clock):
        yield loop


def test_a_payment_is_called_back_verified_fetched_and_run_once_and_the_poll_agrees(sandbox, tmp_path, monkeypatch):
    from ledgerlink.engine.worker import Worker
    from ledgerlink.web.app import create_app

    runtime = runtime_on(sandbox.url, tmp_path / "callbacks", monkeypatch, poll=True)
    with background(create_app(runtime=runtime)) as server:
        address = f"{server.url}/webhooks/freshbooks"
        (done,) = register(runtime.connections, "freshbooks", address, {"freshbooks.payment.created"}, wait=30)
        assert (done.done, done.subscription.event, done.subscription.verified) == ("confirmed", "payment.create", True)
        verifier = sandbox.sandbox.callbacks.verifier(int(done.subscription.id))
        assert runtime.connections.secret_box.get("freshbooks") == {SIGNING + done.subscription.id: verifier}
        again = register(runtime.connections, "freshbooks", address, {"freshbooks.payment.created"}, wait=30)
        assert [r.done for r in again] == ["kept"]
        assert [(s.event, s.verified) for s in listed(runtime.connections, "freshbooks")] == [("payment.create", True)]

        payment = paid_invoice(sandbox)
        until(lambda: runtime.store.fetch_counts() == {"pending": 1}, "the payment's callback")
        worker = Worker(runtime)
        for claimed in runtime.store.claim_fetches(worker.name, 60, 5):
            assert worker.fetch(claimed) == "done"
        [run] = runtime.store.list_runs()
        event = jsonio.loads(runtime.store.event(run["event_pk"])["payload"])
        assert event["data"]["id"] == payment["id"] and event["data"]["amount"] == {"amount": "41.94", "code": "USD"}
        assert event["via"] == "callback" and event["delivery"]["name"] == "payment.create"

        # FreshBooks sends it again: stored once, nothing more planned
        fields = {"name": "payment.create", "object_id": str(payment["id"]), "account_id": ACCOUNT,
                  "business_id": event["delivery"]["business_id"], "identity_id": event["delivery"]["identity_id"],
                  "user_id": event["delivery"]["user_id"]}
        answer = httpx.post(address, content=urlencode(fields), headers={
            HEADER: signature(verifier, fields), "Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200 and answer.json()["duplicates"] == 1, answer.text
        # a forgery (signed with a code the sandbox never sent) is refused and stores nothing
        forged = httpx.post(address, content=urlencode({**fields, "object_id": "1"}), headers={
            HEADER: signature("not-the-verifier", {**fields, "object_id": "1"}),
            "Content-Type": "application/x-www-form-urlencoded"})
        assert forged.status_code == 401 and stored_events(runtime) == 1
        # the poll lists the same payment: the same event, no second run
        assert worker.poll("freshbooks") == 1
        for claimed in runtime.store.claim_fetches(worker.name, 60, 5):
            worker.fetch(claimed)
        assert len(runtime.store.list_runs()) == 1
    runtime.close()

    # without callbacks, the poll alone plans the same run
    polled = runtime_on(sandbox.url, tmp_path / "poll", monkeypatch, poll=True)
    worker = Worker(polled)
    assert worker.poll("freshbooks") == 1
    for claimed in polled.store.claim_fetches(worker.name, 60, 5):  # a polled event carries its object
        assert worker.fetch(claimed) == "done"
    [run] = polled.store.list_runs()
    event = jsonio.loads(polled.store.event(run["event_pk"])["payload"])
    assert (event["via"], event["data"]["id"], run["recipe_id"]) == ("poll", payment["id"], RECIPE["id"])
    assert event["data"]["amount"] == {"amount": "41.94", "code": "USD"}
    polled.close()


def test_a_verification_code_posted_by_anyone_is_only_pending(sandbox, tmp_path, monkeypatch):
    from ledgerlink.web.app import create_app

    runtime = runtime_on(sandbox.url, tmp_path / "forged", monkeypatch)
    client = create_app(runtime=runtime).test_client()
    shake = client.post("/webhooks/freshbooks", data="name=callback.verify&object_id=2001&verifier=mine",
                        content_type="application/x-www-form-urlencoded")
    assert shake.status_code == 200 and shake.get_json()["handshake"] == "2001"
    assert runtime.connections.secret_box.get("freshbooks") == {PENDING + "2001": "mine"}
    fields = {"name": "payment.create", "object_id": "5", "account_id": ACCOUNT}
    refused = client.post("/webhooks/freshbooks", data=urlencode(fields), headers={HEADER: signature("mine", fields)},
                          content_type="application/x-www-form-urlencoded")
    assert refused.status_code == 401 and stored_events(runtime) == 0
    runtime.close()


def test_the_command_registers_once_and_lists_what_freshbooks_has(sandbox, tmp_path, monkeypatch, capsys):
    from ledgerlink import cli
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.web.app import create_app

    db, config, recipes = configured(sandbox.url, tmp_path / "cli", monkeypatch)
    runtime = build_runtime(db=db, recipes=recipes, config_file=config)
    options = ["--db", db, "--config", config]
    with background(create_app(runtime=runtime)) as server:
        address = f"{server.url}/webhooks/freshbooks"
        for done in ("confirmed", "kept"):  # run again, it creates nothing
            assert cli.main(["webhooks", "register", "freshbooks", address, "--recipes", recipes, "--json",
                             *options]) == 0
            (row,) = json.loads(capsys.readouterr().out)["subscriptions"]
            assert (row["event"], row["verified"], row["done"]) == ("payment.create", True, done)
        assert cli.main(["webhooks", "list", "freshbooks", *options]) == 0
        assert capsys.readouterr().out.split() == ["payment.create", row["id"], "verified", address]
        empty = tmp_path / "no-recipes"
        empty.mkdir()
        assert cli.main(["webhooks", "register", "freshbooks", address, "--recipes", str(empty), *options]) == 1
        assert "no enabled recipe on connection 'freshbooks'" in capsys.readouterr().err
    runtime.close()
