"""The health page and a console user in headless Chromium (:mod:`chromium_page`), against
``serve``'s app on loopback with a worker and the QuickBooks sandbox: a user of
``[console.users]`` signs in with the keyboard, is named in the header, opens the health page
(the chart drawn, its table opened with the keyboard, a refused delivery counted) and follows
the sync log to a run whose links open Stripe's and QuickBooks' pages in a new tab. No link
is followed: nothing leaves loopback. Screenshots: ``login-user.png``, ``health.png``,
``health-table.png``, ``sync-log-links.png``, ``run-links.png``."""

from __future__ import annotations

import httpx
import pytest

from chromium_page import browser_page, shot
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_console import users
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, deliver, recipes_dir, signed, wait_settled, working, write_config
from stripe_events import invoice_paid_event

PASSWORD = "a long console password 42"


@pytest.fixture
def served(tmp_path, monkeypatch, qbo):
    """``serve``'s app with one worker over the QuickBooks sandbox, user ``ana`` in
    ``[console.users]``; one invoice booked, one delivery refused."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    config = write_config(tmp_path, qbo.url)
    hashed = users.hash_password(PASSWORD, ln=12)
    config.write_text(config.read_text() + f'\n[console.users]\nana = "{hashed}"\n')
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path), config_file=str(config),
                            settings=Settings(backoff_base=0.05, backoff_cap=0.5))
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime)
    with working(runtime), background(app) as server:
        event = invoice_paid_event("usd", 4200, event_id="evt_health_1")
        event["livemode"] = False
        deliver(runtime, event)
        assert wait_settled(runtime, 1) == {"succeeded": 1}
        body, headers = signed(invoice_paid_event("usd", 100, event_id="evt_forged"), secret="whsec_forged")
        assert httpx.post(f"{server.url}/webhooks/stripe", content=body, headers=headers).status_code == 401
        yield runtime, server.url, hashed
    runtime.close()


def test_a_config_user_signs_in_and_reads_the_health_page_and_the_runs_links(served):
    runtime, base, hashed = served
    with browser_page() as page:
        page.goto(f"{base}/console/health")
        assert page.url.startswith(f"{base}/console/login")
        shot(page, "login-user")
        page.fill("#user", "ana")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")  # the keyboard alone signs in, and lands where it was going
        page.wait_for_url(f"{base}/console/health")
        assert page.inner_text("header .who") == "Signed in as ana"
        assert page.is_visible("svg.chart[role=img]")
        assert page.locator("svg.chart .bar-succeeded").count() >= 2  # a bar and its legend
        assert page.inner_text("table.rejections tbody td:first-child") == "stripe"
        html = page.content()
        assert hashed not in html and PASSWORD not in html and QBO_TOKEN not in html
        shot(page, "health")
        page.focus("details.chart-table summary")
        page.keyboard.press("Enter")
        page.wait_for_selector("table.runs-per-hour", state="visible")
        assert page.inner_text("table.runs-per-hour tbody tr td:last-child") == "1"
        shot(page, "health-table")
        page.click("nav a:has-text('Sync log')")
        page.wait_for_url(f"{base}/console/")
        links = page.locator("table.runs a.deeplink")
        assert links.count() == 3
        for i in range(3):
            assert links.nth(i).get_attribute("target") == "_blank"
            assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
        assert links.nth(0).get_attribute("href").startswith("https://dashboard.stripe.com/test/invoices/in_")
        assert links.nth(1).get_attribute("href").startswith("https://sandbox.qbo.intuit.com/app/journal?txnId=")
        shot(page, "sync-log-links")
        page.click("table.runs td a[href='/console/runs/1']")
        page.wait_for_url(f"{base}/console/runs/1")
        assert page.locator("ul.deeplinks a.deeplink").count() == 3
        shot(page, "run-links")
