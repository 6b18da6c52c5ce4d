"""A run's links into the vendors' applications, end to end: a Stripe event booked into the
QuickBooks sandbox by a worker, then the link of its source invoice and of each entity it
wrote, from the connectors' ``entity_url``; a connector that fails or answers a non-web
address costs its link, never the page."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledgerlink.engine.deeplinks import SOURCE, WROTE, links_of_runs, run_links
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.testing.databases import migrated_db
from runtime_fixtures import QBO_TOKEN, WEBHOOK_SECRET, deliver, recipes_dir, wait_settled, working, write_config
from stripe_events import invoice_paid_event


@pytest.fixture
def booked(tmp_path, monkeypatch, qbo):
    """A runtime whose first run booked a Stripe invoice into the QuickBooks sandbox and
    whose second is still pending (no worker took it)."""
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                            config_file=str(write_config(tmp_path, qbo.url)),
                            settings=Settings(backoff_base=0.05, backoff_cap=0.5))
    event = invoice_paid_event("usd", 4200, event_id="evt_links_1")
    event["livemode"] = False
    with working(runtime):
        deliver(runtime, event)
        assert wait_settled(runtime, 1) == {"succeeded": 1}
    live = invoice_paid_event("usd", 4300, event_id="evt_links_2")
    live["livemode"] = True
    deliver(runtime, live)
    yield runtime
    runtime.close()


def test_a_booked_run_links_its_source_invoice_and_every_entity_it_wrote(booked):
    run = booked.store.run(1)
    links = run_links(booked, 1)
    source, *wrote = links
    (invoice_id,) = {link["source_id"] for link in run["links"] if link["step_id"] == "entry"}
    assert source.role == SOURCE and source.connection == "stripe" and source.kind == "invoice"
    assert source.url == f"https://dashboard.stripe.com/test/invoices/{invoice_id}"
    assert source.label == f"stripe: invoice {invoice_id}"
    entry = next(s for s in run["steps"] if s["step_id"] == "entry")
    journal = [link for link in wrote if link.kind == "JournalEntry"]
    assert [link.id for link in journal] == [entry["external_id"]]
    # the sandbox is not Intuit's production API: QuickBooks' sandbox site
    assert journal[0].url == f"https://sandbox.qbo.intuit.com/app/journal?txnId={entry['external_id']}"
    assert journal[0].role == WROTE and journal[0].to_json()["step_id"] == "entry"
    # the customer the first step found (or created) is linked by the id the step ended with
    customer = next(s for s in run["steps"] if s["step_id"] == "customer")
    assert [(link.role, link.kind, link.step_id) for link in wrote] == [
        ("wrote", "JournalEntry", "entry"), ("step", "quickbooks.find_or_create_customer", "customer")]
    assert wrote[1].url == f"https://sandbox.qbo.intuit.com/app/customerdetail?nameId={customer['external_id']}"


def test_a_page_of_runs_gets_each_runs_links_and_a_pending_run_only_its_source(booked):
    links = links_of_runs(booked, [2, 1, 999])
    assert list(links) == [2, 1, 999]
    assert [link.role for link in links[2]] == [SOURCE]
    assert links[2][0].url.startswith("https://dashboard.stripe.com/invoices/in_")  # a live event
    assert links[1] == run_links(booked, 1) and links[999] == []


@pytest.mark.parametrize("answer", [RuntimeError("boom"), "javascript:alert(1)", "/app/journal?txnId=1"])
def test_a_connector_that_fails_or_answers_no_web_address_costs_only_its_links(booked, answer):
    def entity_url(ref):
        if isinstance(answer, Exception):
            raise answer
        return answer

    catalog = booked.catalog.connectors
    catalog["quickbooks"] = replace(catalog["quickbooks"], entity_url=entity_url)
    links = run_links(booked, 1)
    assert [link.connection for link in links] == ["stripe"]


def test_a_connector_without_entity_url_gives_no_links(booked):
    catalog = booked.catalog.connectors
    catalog["stripe"] = replace(catalog["stripe"], entity_url=None)
    assert {link.connection for link in run_links(booked, 1)} == {"quickbooks"}
