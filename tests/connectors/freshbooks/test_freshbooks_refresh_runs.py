"""A connected FreshBooks connection whose access token FreshBooks no longer takes, through the
host: the run's write is answered 401, the host refreshes (once; the single-use refresh token
stored before the new access token is used) and the run books its invoice on the next attempt."""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

import httpx

from fb_connector import RECIPE, LossyTokens
from fb_sandbox import ACCOUNT, served
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.io.oauth import consent_url
from ledgerlink.io.secrets import new_key
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.freshbooks import DEFAULT_BUSINESS_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from runtime_fixtures import ADMIN_TOKEN, signed
from stripe_events import invoice_paid_event

HOURS_13 = 13 * 3600.0


def test_a_token_freshbooks_refuses_is_refreshed_once_and_the_run_books_its_invoice(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_FRESHBOOKS_SECRET", DEFAULT_CLIENT_SECRET)
    with served() as (loop, clock):
        lossy = LossyTokens(f"{loop.url}/auth/oauth/token")
        with background(lossy.app) as tokens:
            recipes = tmp_path / "recipes"
            recipes.mkdir()
            (recipes / f"{RECIPE['id']}.json").write_text(json.dumps(RECIPE))
            config = tmp_path / "ledgerlink.toml"
            config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
                              f'[connections.freshbooks]\nconnector = "freshbooks"\nclient_id = "{DEFAULT_CLIENT_ID}"\n'
                              'client_secret = "${LL_FRESHBOOKS_SECRET}"\n'
                              f'authorize_url = "{loop.url}/service/auth/oauth/authorize"\n'
                              f'token_url = "{tokens.url}/auth/oauth/token"\n'
                              f'identity_url = "{loop.url}/auth/api/v1/users/me"\n'
                              f'api_base = "{loop.url}"\nbusiness_id = {DEFAULT_BUSINESS_ID}\n')
            runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config),
                                    settings=Settings(backoff_base=0.02, backoff_cap=0.1))
            try:
                consent = httpx.get(consent_url(runtime.connections, "freshbooks", "http://127.0.0.1:8080/oauth/callback"))
                client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
                answer = client.get(f"/oauth/callback?{urlparse(consent.headers['location']).query}")
                assert answer.status_code == 200, answer.get_json()
                assert runtime.connections.connection("freshbooks").settings["account_id"] == ACCOUNT
                before = runtime.connections.secret_box.get("freshbooks")["refresh_token"]
                clock.now += HOURS_13  # FreshBooks' 12 hours are over; ledgerlink's clock has not seen them
                event = invoice_paid_event("eur", 2500, event_id="evt_fb_refresh")
                body, headers = signed(event)
                runtime.inbox.receive("stripe", headers, body)
                pool = WorkerPool(runtime, 1)
                pool.start()
                try:
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline:
                        counts = runtime.store.counts()
                        if counts and not any(counts.get(s) for s in ("pending", "running", "retrying")):
                            break
                        time.sleep(0.02)
                finally:
                    pool.stop()
                run = runtime.store.run(1)
                after = runtime.connections.secret_box.get("freshbooks")["refresh_token"]
            finally:
                runtime.close()
    assert counts == {"succeeded": 1}, run
    first = [s for s in run["steps"] if s["step_id"] == "client"]
    assert first[0]["response_status"] == 401 and first[-1]["status"] == "succeeded"
    assert lossy.refreshes == 1 and after != before
    invoices = loop.sandbox.business(ACCOUNT).all("invoices")
    assert [i["po_number"] for i in invoices] == [event["data"]["object"]["id"]]
    assert invoices[0]["currency_code"] == "EUR" and invoices[0]["amount"]["amount"] == "25.00"
