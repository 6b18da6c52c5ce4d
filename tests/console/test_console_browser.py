"""The console in a real browser (headless Chromium, see :mod:`chromium_page`), against ``serve``'s
app on loopback with a worker and the QuickBooks sandbox: sign in, find a run QuickBooks
refused, read its error, replay it once the fault is gone and see it succeed; approve a run
awaiting review; a secret in a step's input shown redacted; a POST without its CSRF token
refused; the Content-Security-Policy on every page. Each page is saved under
``build/screenshots/``."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from chromium_page import browser_page, shot
from ledgerlink import jsonio
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.store.schema import run_steps
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from review_recipe import ENTRY_RECIPE
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, deliver, entries_by_event, recipes_dir, wait_settled, working, write_config
from stripe_events import invoice_paid_event


@pytest.fixture
def served(request, tmp_path, monkeypatch, qbo, sandbox):
    """``serve``'s app with one worker, on loopback, over the QuickBooks sandbox; with the
    parameter ``"review"``, its one recipe is the review recipe."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)  # a secret: no page may show it
    if getattr(request, "param", None) == "review":
        folder = recipes_dir(tmp_path, names=())
        (folder / "reviewed-invoice-income.json").write_text(json.dumps(ENTRY_RECIPE))
    else:
        folder = recipes_dir(tmp_path)
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=folder,
                            config_file=str(write_config(tmp_path, qbo.url)),
                            settings=Settings(backoff_base=0.05, backoff_cap=0.5))
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime)
    with working(runtime), background(app) as server:
        yield runtime, server.url, sandbox
    runtime.close()


def sign_in(page, base: str, shoot: bool = False) -> None:
    page.goto(f"{base}/console/")
    assert page.url.startswith(f"{base}/console/login")
    if shoot:  # once: tests running side by side never write the same file
        shot(page, "login")
    page.fill("#token", ADMIN_TOKEN)
    page.press("#token", "Enter")  # the keyboard alone signs in
    page.wait_for_url(f"{base}/console/")


def wait_for_status(page, status: str) -> None:
    """Reload the run page until it shows ``status`` (waited for, never timed)."""
    for _ in range(200):
        if page.inner_text("h1 .status") == status:
            return
        time.sleep(0.1)
        page.reload()
    raise AssertionError(f"the run never became {status}: {page.inner_text('h1')}")


def test_a_failed_run_is_found_read_and_replayed_until_it_succeeds(served):
    runtime, base, sandbox = served
    sandbox.script([{"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000"}])
    deliver(runtime, invoice_paid_event("usd", 4200, event_id="evt_console_1"))
    assert wait_settled(runtime, 1) == {"failed": 1}
    with browser_page() as page:
        sign_in(page, base, shoot=True)
        shot(page, "sync-log")
        page.select_option("select[name=status]", "failed")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/console/?status=failed**")
        shot(page, "sync-log-failed")
        rows = page.locator("table.runs tbody tr")
        assert rows.count() == 1
        rows.first.locator("td:first-child a").click()  # the run (the row links out too)
        error = page.inner_text(".last-error")
        assert "the account is inactive" in error
        shot(page, "run-failed")
        page.click("text=Replay…")
        assert "becomes pending again on its own recipe version" in page.inner_text(".explain")
        shot(page, "confirm-replay")
        page.click("button.confirm")
        assert "pending again" in page.inner_text(".notice")
        wait_for_status(page, "succeeded")
        assert page.inner_text(".facts").count("Booked") == 1
        shot(page, "run-replayed")
    assert entries_by_event(sandbox) == {"evt_console_1": 1}


@pytest.mark.parametrize("served", ["review"], indirect=True)
def test_a_run_awaiting_review_is_approved_and_sent(served):
    runtime, base, sandbox = served
    deliver(runtime, invoice_paid_event("usd", 990, event_id="evt_console_review"))
    assert wait_settled(runtime, 1) == {"awaiting_review": 1}
    with browser_page() as page:
        sign_in(page, base)
        page.click("nav >> text=Review")
        shot(page, "review")
        page.click("text=details")
        page.click("text=Approve…")
        shot(page, "confirm-approve")
        page.click("button.confirm")
        wait_for_status(page, "succeeded")
        shot(page, "run-approved")
    assert entries_by_event(sandbox) == {"evt_console_review": 1}


def test_a_secret_in_a_steps_input_is_shown_redacted(served):
    runtime, base, _ = served
    deliver(runtime, invoice_paid_event("usd", 100, event_id="evt_console_secret"))
    wait_settled(runtime, 1)
    with runtime.store.engine.begin() as conn:
        conn.execute(sa.update(run_steps).values(input=jsonio.dumps({"Memo": f"pasted {QBO_TOKEN} here"})))
    with browser_page() as page:
        sign_in(page, base)
        page.goto(f"{base}/console/runs/1")
        text = page.inner_text("body")
        assert QBO_TOKEN not in page.content() and "pasted [REDACTED] here" in text
        shot(page, "run-redacted")


def test_a_post_without_its_csrf_token_is_refused_and_every_page_has_the_csp(served):
    _, base, _ = served
    with browser_page() as page:
        sign_in(page, base)
        for path in ("/console/", "/console/login", "/console/?status=failed"):
            answer = page.goto(f"{base}{path}")
            csp = answer.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        refused = page.context.request.post(f"{base}/console/logout", form={"csrf": "forged"})
        assert refused.status == 403 and refused.json()["error"]["code"] == "csrf_failed"
        page.goto(f"{base}/console/")
        assert page.url == f"{base}/console/"  # still signed in: the forged POST did nothing
        page.click("header button[type=submit]")  # sign out, with the form's token
        page.wait_for_url(f"{base}/console/login")
        shot(page, "signed-out")


@pytest.mark.parametrize("served", ["review"], indirect=True)
def test_the_review_queue_approves_several_runs_at_once(served):
    runtime, base, sandbox = served
    deliver(runtime, *[invoice_paid_event("usd", 1000 + i, event_id=f"evt_console_queue_{i}") for i in range(3)])
    assert wait_settled(runtime, 3) == {"awaiting_review": 3}
    with browser_page() as page:
        sign_in(page, base)
        page.click("nav >> text=Review")
        assert page.locator("input[name=run]").count() == 3
        assert "\"DebitAccount\": \"4\"" in page.inner_text("pre")  # what it would send
        for box in page.locator("input[name=run]").all()[:2]:
            box.focus()
            page.keyboard.press("Space")  # ticked with the keyboard alone
        page.click("text=Approve selected…")
        assert "Approve 2 run(s)?" in page.inner_text("h1")
        shot(page, "review-confirm-many")
        page.click("button.confirm")
        assert "2 run(s) approved" in page.inner_text(".notice")
        shot(page, "review-after")
    counts = wait_settled(runtime, 3)
    assert counts == {"succeeded": 2, "awaiting_review": 1}, counts
    assert len(entries_by_event(sandbox)) == 2


def test_a_succeeded_run_is_undone_after_its_confirmation(served):
    runtime, base, sandbox = served
    deliver(runtime, invoice_paid_event("usd", 3300, event_id="evt_console_undo"))
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    assert entries_by_event(sandbox) == {"evt_console_undo": 1}
    with browser_page() as page:
        sign_in(page, base)
        page.goto(f"{base}/console/runs/1")
        assert "33.00 USD" in page.inner_text(".facts")  # what it booked, to the currency's decimals
        page.click("text=Undo…")
        explain = page.inner_text(".explain")
        assert "voided or deleted in the target system" in explain
        (entry,) = [link for link in runtime.store.run(1)["links"]
                    if link["target_type"] == "quickbooks.create_journal_entry"]
        assert f"Voided or deleted: quickbooks.create_journal_entry {entry['target_id']} in quickbooks." in explain
        assert "Kept, as other runs use them too: quickbooks." in explain  # the customer it found
        shot(page, "confirm-undo")
        page.click("button.confirm")
        assert "undone" in page.inner_text(".notice") and page.inner_text("h1 .status") == "undone"
        shot(page, "run-undone")
    assert entries_by_event(sandbox) == {}


def test_a_failed_run_is_replayed_on_the_recipes_latest_version(served):
    runtime, base, sandbox = served
    sandbox.script([{"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000"}])
    deliver(runtime, invoice_paid_event("usd", 5100, event_id="evt_console_latest"))
    assert wait_settled(runtime, 1) == {"failed": 1}
    path = runtime.registry.directory / "stripe-invoice-paid-to-quickbooks-journal.json"
    recipe = json.loads(path.read_text())
    recipe["version"] = latest = recipe["version"] + 1  # the recipe fixed, and loaded again
    path.write_text(json.dumps(recipe))
    runtime.registry.reload()
    with browser_page() as page:
        sign_in(page, base)
        page.goto(f"{base}/console/runs/1")
        page.click("text=Replay on the latest version…")
        assert f"version {latest} (the version loaded now" in page.inner_text(".explain")
        shot(page, "confirm-replay-latest")
        page.click("button.confirm")
        assert "latest version" in page.inner_text(".notice")
        page.goto(f"{base}/console/runs/2")
        wait_for_status(page, "succeeded")
        assert f"version {latest}" in page.inner_text(".facts")
    assert runtime.store.run(1)["status"] == "failed"  # the run replayed stays as it was
    assert entries_by_event(sandbox) == {"evt_console_latest": 1}


def test_the_sync_logs_counts_follow_new_runs_without_a_reload(served):
    runtime, base, _ = served
    with browser_page() as page:
        sign_in(page, base)
        assert page.inner_text('ul.counts b[data-status=""]') == "0"
        assert page.locator('ul.counts b[data-status="succeeded"]').count() == 0
        page.evaluate("window.notReloaded = true")
        deliver(runtime, invoice_paid_event("usd", 1500, event_id="evt_console_live"))
        assert wait_settled(runtime, 1) == {"succeeded": 1}
        # static/console.js reads /console/counts every few seconds: the numbers change in place
        page.wait_for_function("""() => {
            const all = document.querySelector('ul.counts b[data-status=""]');
            const done = document.querySelector('ul.counts b[data-status="succeeded"]');
            return all && all.textContent === "1" && done && done.textContent === "1";
        }""")
        assert page.evaluate("window.notReloaded") is True
        assert page.get_attribute('ul.counts li.st-succeeded a', "href") == "/console/?status=succeeded"
        shot(page, "sync-log-live")
