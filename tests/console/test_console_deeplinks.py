"""Deep links in the console's pages: a Stripe invoice booked into the QuickBooks sandbox by a
worker, then the sync log row and the run page link to the invoice in Stripe's dashboard and
to the journal entry and customer in QuickBooks, each opening in a new tab without giving the
page a handle or a referrer; the sync log reads the links of a whole page in a fixed number of
statements, however many rows it shows."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from console_helpers import sign_in
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from runtime_fixtures import (ADMIN_TOKEN, QBO_TOKEN, WEBHOOK_SECRET, deliver, recipes_dir, wait_settled, working,
                              write_config)
from stripe_events import invoice_paid_event
from test_console_pages import bench


@pytest.fixture
def booked(tmp_path, monkeypatch, qbo):
    """``serve``'s app whose run 1 booked a test-mode Stripe invoice into the QuickBooks
    sandbox and whose run 2 (a live-mode invoice) waits for a worker; a client signed in."""
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                            config_file=str(write_config(tmp_path, qbo.url)),
                            settings=Settings(backoff_base=0.05, backoff_cap=0.5))
    event = invoice_paid_event("usd", 4200, event_id="evt_console_links_1")
    event["livemode"] = False
    with working(runtime):
        deliver(runtime, event)
        assert wait_settled(runtime, 1) == {"succeeded": 1}
    live = invoice_paid_event("usd", 4300, event_id="evt_console_links_2")
    live["livemode"] = True
    deliver(runtime, live)
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime)
    client = app.test_client()
    assert sign_in(client).status_code == 303
    yield runtime, client
    runtime.close()


def anchors(html: str) -> list[dict[str, str]]:
    """Every deep link of a page: its address, label, target and rel."""
    found = []
    for attrs, label in re.findall(r'<a ([^>]*class="deeplink[^"]*"[^>]*)>(.*?)<span', html):
        found.append({name: unescape(value) for name, value in re.findall(r'(\w+)="([^"]*)"', attrs)}
                     | {"label": unescape(label)})
    return found


def row_of(html: str, run_id: int) -> str:
    return re.search(rf'<tr>\s*<td><a href="/console/runs/{run_id}">.*?</tr>', html, re.S).group(0)


def test_a_quickbooks_run_links_its_stripe_invoice_and_what_it_wrote_in_quickbooks(booked):
    runtime, client = booked
    run = runtime.store.run(1)
    (invoice,) = {link["source_id"] for link in run["links"] if link["step_id"] == "entry"}
    entry = next(s for s in run["steps"] if s["step_id"] == "entry")["external_id"]
    customer = next(s for s in run["steps"] if s["step_id"] == "customer")["external_id"]
    expected = [f"https://dashboard.stripe.com/test/invoices/{invoice}",
                f"https://sandbox.qbo.intuit.com/app/journal?txnId={entry}",
                f"https://sandbox.qbo.intuit.com/app/customerdetail?nameId={customer}"]
    log = client.get("/console/").get_data(as_text=True)
    row = anchors(row_of(log, 1))
    assert [a["href"] for a in row] == expected
    assert row[0]["label"] == f"stripe: invoice {invoice}" and row[1]["label"] == f"quickbooks: JournalEntry {entry}"
    for a in row:
        assert a["target"] == "_blank" and a["rel"] == "noopener noreferrer"
    # the live invoice's run has not run: only its source, in Stripe's live dashboard
    (live,) = anchors(row_of(log, 2))
    assert re.fullmatch(r"https://dashboard\.stripe\.com/invoices/in_\w+", live["href"])
    detail = client.get("/console/runs/1").get_data(as_text=True)
    section = re.search(r'<section aria-labelledby="open-title">.*?</section>', detail, re.S).group(0)
    links = anchors(section)
    assert [a["href"] for a in links] == expected
    assert all(a["target"] == "_blank" and a["rel"] == "noopener noreferrer" for a in links)
    assert "written by step entry" in section and "what the event is about" in section
    assert QBO_TOKEN not in log and QBO_TOKEN not in detail


def test_the_sync_log_reads_a_pages_links_in_the_same_statements_for_2_rows_or_50(booked):
    runtime, client = booked

    def statements_of_a_page() -> int:
        seen: list[str] = []
        listener = lambda conn, cursor, statement, *rest: seen.append(statement)  # noqa: E731
        sa.event.listen(runtime.store.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/console/").status_code == 200
        finally:
            sa.event.remove(runtime.store.engine, "before_cursor_execute", listener)
        return len(seen)

    statements_of_a_page()  # the first page read fills the caches (recipe versions) the next ones use
    few = statements_of_a_page()
    bench().fill(str(runtime.store.engine.url), 48)
    assert len(re.findall(r'<td><a href="/console/runs/\d+">', client.get("/console/").get_data(as_text=True))) == 50
    assert statements_of_a_page() == few
