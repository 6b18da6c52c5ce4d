"""Connections and reconciliation in a real browser (headless Chromium, see
:mod:`chromium_page`), against ``serve``'s app on loopback with a worker and the QuickBooks
sandbox serving a consent page: sign in, press Connect, answer the sandbox's consent page,
land back on the console showing quickbooks ok; book an invoice; delete its entry by hand in
QuickBooks; reconcile now and read the difference with its run and fix. Screenshots:
``connections``, ``connections-connected``, ``reconciliation``."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from chromium_page import browser_page, shot
from console_oauth import oauth_config, stored_secrets
from ledgerlink import jsonio
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN, REALM, deliver, recipes_dir, wait_settled, working
from stripe_events import invoice_paid_event


@pytest.fixture
def served(tmp_path, monkeypatch, qbo, sandbox):
    """``serve``'s app with one worker on loopback, over an OAuth QuickBooks connection never
    connected; the sandbox asks for consent on a page."""
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                            config_file=str(oauth_config(tmp_path, monkeypatch, qbo.url)),
                            settings=Settings(backoff_base=0.05, backoff_cap=0.5))
    sandbox.consent_page = True
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime)
    with working(runtime), background(app) as server:
        yield runtime, server.url, qbo
    runtime.close()


def delete_by_hand(qbo, entry: dict) -> None:
    """Delete a journal entry as a person would in QuickBooks."""
    answer = httpx.post(f"{qbo.url}/v3/company/{REALM}/journalentry",
                        params={"operation": "delete", "minorversion": "75"},
                        content=jsonio.dumps({"Id": entry["Id"], "SyncToken": entry["SyncToken"]}),
                        headers={"Authorization": "Bearer sandbox-access-token", "Content-Type": "application/json",
                                 "Accept": "application/json"})
    assert answer.status_code == 200, answer.text


def test_connect_quickbooks_through_its_consent_page_then_reconcile_it_now(served):
    runtime, base, qbo = served
    with browser_page() as page:
        page.goto(f"{base}/console/connections")
        page.fill("#token", ADMIN_TOKEN)
        page.press("#token", "Enter")
        page.wait_for_url(f"{base}/console/connections")
        card = page.locator("#connection-quickbooks")
        assert card.locator(".status").inner_text() == "not connected"
        shot(page, "connections")

        card.locator("button.connect").click()  # a POST with its CSRF token, redirected to the consent page
        page.wait_for_url(f"{qbo.url}/connect/oauth2**")
        assert "Connect to QuickBooks (sandbox)" in page.inner_text("h1")
        page.click("#allow")
        page.wait_for_url(f"{base}/console/connections?connected=quickbooks")
        card = page.locator("#connection-quickbooks")
        assert card.locator(".status").inner_text() == "ok"
        assert "quickbooks is connected" in page.inner_text(".notice")
        assert "expires" in card.inner_text()
        text = page.content()
        for secret in stored_secrets(runtime):
            assert secret not in text
        shot(page, "connections-connected")

        deliver(runtime, invoice_paid_event("usd", 4200, event_id="evt_console_browser_reconcile"))
        assert wait_settled(runtime, 1) == {"succeeded": 1}
        [run] = runtime.store.list_runs()
        [entry] = qbo.sandbox.entities(REALM, "journalentry")
        delete_by_hand(qbo, entry)

        page.click("nav >> text=Reconciliation")
        page.wait_for_url(f"{base}/console/reconciliation")
        assert "Not reconciled yet." in page.inner_text("#ledger-quickbooks")
        page.click("#ledger-quickbooks >> text=Run now…")
        page.fill("#since", "2000-01-01")
        page.fill("#until", dt.datetime.now(dt.timezone.utc).date().isoformat())
        page.click("button.confirm")
        page.wait_for_url(f"{base}/console/reconciliation?done=quickbooks#ledger-quickbooks")
        ledger = page.locator("#ledger-quickbooks")
        assert ledger.locator(".status").inner_text() == "1 difference"
        row = ledger.locator("tbody tr").first.inner_text()
        assert "missing" in row and "42.00 USD" in row and f"ledgerlink runs replay {run['id']}" in row
        shot(page, "reconciliation")
