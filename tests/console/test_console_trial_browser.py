"""The trial sync in a real browser (headless Chromium, see :mod:`chromium_page`), against
``serve``'s app on loopback with a worker and the QuickBooks sandbox: pick a recipe, dry-run
it on its trigger's sample and read the request it would send, then send that one event for
real, confirm, and watch its run succeed. The pages are saved as ``trial``, ``trial-result``,
``trial-confirm`` and ``trial-run`` under ``build/screenshots/``."""

from __future__ import annotations

from chromium_page import browser_page, shot
from runtime_fixtures import QBO_TOKEN, entries_by_event, wait_settled
import test_console_browser
from test_console_browser import sign_in, wait_for_status

#: the fixture of test_console_browser.py: ``serve``'s app with a worker over the QuickBooks sandbox
served = test_console_browser.served

RECIPE = "stripe-invoice-paid-to-quickbooks-journal"


def test_a_recipe_is_dry_run_on_a_sample_then_sent_for_real_and_succeeds(served):
    runtime, base, sandbox = served
    with browser_page() as page:
        sign_in(page, base)
        page.click("nav >> text=Trial sync")
        page.wait_for_url(f"{base}/console/trial")
        page.select_option("#recipe-pick", RECIPE)
        page.click("text=Show its events")
        page.wait_for_url(f"**/console/trial?recipe={RECIPE}")
        shot(page, "trial")
        page.focus("#sample")
        page.keyboard.press("Tab")  # from the sample to its button, in order
        assert page.evaluate("document.activeElement.textContent") == "Dry-run the sample"
        page.keyboard.press("Enter")  # the keyboard alone dry-runs it
        page.wait_for_selector(".trial-result")
        assert "The filter accepts this event" in page.inner_text(".verdict")
        requests = page.locator(".request-line").all_inner_texts()
        assert any(r.startswith("POST ") and "/v3/company/9130350000000000/journalentry" in r for r in requests)
        assert "Bearer [REDACTED]" in page.inner_text(".trial-result") and QBO_TOKEN not in page.content()
        assert page.locator(".side-by-side").count() == page.locator(".trial-step").count() >= 2
        shot(page, "trial-result")
        page.click("text=Send this one for real…")
        assert "Send event evt_fixture_invoice_paid for real?" in page.inner_text("h1")
        assert f"{RECIPE} version 2" in page.inner_text(".explain")
        shot(page, "trial-confirm")
        assert runtime.store.counts() == {}  # neither the dry-run nor the confirmation sent anything
        page.click("button.confirm")
        page.wait_for_url(f"{base}/console/runs/*")
        wait_for_status(page, "succeeded")
        assert "evt_fixture_invoice_paid" in page.inner_text(".facts")
        shot(page, "trial-run")
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    assert entries_by_event(sandbox) == {"evt_fixture_invoice_paid": 1}
