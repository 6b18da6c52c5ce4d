"""``ledgerlink backfill`` for Xero against the Xero sandbox: each trigger's past listed with
``If-Modified-Since`` and paged (:mod:`ledgerlink_xero.history`), every record the event its
trigger carries once fetched, planned once per occurrence — so a backfill run twice, or a
webhook arriving after the backfill, plans nothing more. The sandbox's clocks are simulated.
"""

from __future__ import annotations

import time

import pytest

from ledgerlink.engine.backfill import backfill
from ledgerlink.engine.worker import Worker
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.xero import create_sandbox
import xero_flow as flow

RECIPES = ("contact-created", "invoice-created", "payment-recorded", "credit-note-created", "invoice-updated")


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def past(tmp_path, monkeypatch, now):
    """(sandbox, runtime, work) with the webhook test's changes made a while ago, webhooks off."""
    flow.environment(monkeypatch)
    app = create_sandbox(tenants=list(flow.TENANTS.values()), clock=lambda: now[0],
                         wall_clock=lambda: flow.WALL + now[0])
    with running(app) as xero:
        runtime = flow.runtime(tmp_path, xero.url, only=RECIPES)
        worker = Worker(runtime)

        def work() -> None:
            while fetches := runtime.store.claim_fetches(worker.name, 60.0, 10):
                for claimed in fetches:
                    worker.fetch(claimed)
            while claimed := runtime.store.claim(worker.name, 60.0, 10):
                for run in claimed:
                    worker.process(run)

        try:
            yield xero, runtime, work
        finally:
            app.sandbox.set_webhooks(None, None)
            runtime.close()


def unix(now: list[float], seconds: float = 0.0) -> float:
    return flow.WALL + now[0] + seconds


def history(runtime, recipe: str):
    return runtime.catalog.triggers[flow.RECIPES[recipe][0]].history


def test_every_trigger_lists_its_past_and_a_second_backfill_plans_nothing(past, now):
    xero, runtime, work = past
    a = flow.Organisation(xero.url, flow.DEFAULT_TENANT)
    since = unix(now, -60)
    acme = a.contact("Acme", "cus_acme")
    now[0] += 61
    invoice = a.invoice(acme, "100.00")
    now[0] += 61
    a.pay(invoice, "40.00")
    now[0] += 61
    a.pay(invoice, "60.00")
    a.credit_note(acme, "10.00")
    until = unix(now, 1)
    now[0] += 61
    a.contact("Late", "cus_late")  # changed after --until: not listed
    assert all(history(runtime, recipe) is not None for recipe in RECIPES)

    planned = {recipe: backfill(runtime, recipe, since, until, sleep=lambda s: None) for recipe in RECIPES}
    assert {recipe: p.planned for recipe, p in planned.items()} == {
        "contact-created": 1, "invoice-created": 1, "payment-recorded": 1, "credit-note-created": 1,
        "invoice-updated": 1}  # Xero keeps each record's present state, not its history
    assert all(p.done and p.fraction == 1.0 and not p.warnings for p in planned.values())
    work()
    flow.check_runs(runtime)
    runs = {run["recipe_id"]: run["event"] for run in flow.runs(runtime)}
    assert runs["payment-recorded"]["data"]["AmountPaid"] == runs["invoice-created"]["data"]["Total"]
    assert {event["via"] for event in runs.values()} == {"backfill"}
    assert runs["contact-created"]["data"]["ContactID"] == acme["ContactID"]

    again = {recipe: backfill(runtime, recipe, since, until, sleep=lambda s: None) for recipe in RECIPES}
    assert {recipe: (p.planned, p.already_planned) for recipe, p in again.items()} == {
        recipe: (0, 1) for recipe in RECIPES}
    assert flow.per_recipe(runtime) == {recipe: 1 for recipe in RECIPES}


def test_a_webhook_arriving_after_the_backfill_plans_no_second_run(past, now):
    xero, runtime, work = past
    a = flow.Organisation(xero.url, flow.DEFAULT_TENANT)
    since = unix(now, -60)
    acme = a.contact("Acme", "cus_acme")
    invoice = a.invoice(acme, "100.00")
    a.pay(invoice, "100.00")
    until = unix(now, 1)
    for recipe in RECIPES:
        backfill(runtime, recipe, since, until, sleep=lambda s: None)
    work()
    before = flow.per_recipe(runtime)
    assert before == {"contact-created": 1, "invoice-created": 1, "payment-recorded": 1, "invoice-updated": 1}
    # Xero's notifications of those changes, delivered late, signed, to serve's webhook URL
    with background(create_app(runtime=runtime)) as serve:
        xero.sandbox.set_webhooks(f"{serve.url.rstrip('/')}/webhooks/xero", flow.KEY, (0.05,))
        notify = xero.sandbox.notifier.changed
        # stamped half a second after the change (an event id of its own: only the occurrence is shared)
        notify(flow.DEFAULT_TENANT, "Contacts", acme["ContactID"], True, unix(now, 0.5))
        notify(flow.DEFAULT_TENANT, "Invoices", invoice["InvoiceID"], True, unix(now, 0.5))
        notify(flow.DEFAULT_TENANT, "Invoices", invoice["InvoiceID"], False, unix(now, 0.5))
        deadline = time.monotonic() + 30
        while xero.sandbox.stats()["webhooks_pending"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert xero.sandbox.stats()["webhooks_pending"] == 0
        work()
    assert runtime.store.fetch_counts() == {"done": 3}  # stored and fetched: the same states
    assert flow.per_recipe(runtime) == before  # each occurrence already had its run
    # contact-created, invoice-created, and payment-recorded + invoice-updated for the update
    assert runtime.metrics.values["runs_deduplicated"] == 4


def test_more_than_a_page_changed_in_one_second_is_listed_whole_over_several_pages(past, now):
    xero, runtime, _ = past
    a = flow.Organisation(xero.url, flow.DEFAULT_TENANT)
    since = unix(now, -60)
    a.send_all("PUT", "Contacts", [{"Name": f"C{n:03d}", "ContactNumber": f"cus_C{n:03d}"} for n in range(230)])
    progress = backfill(runtime, "contact-created", since, unix(now, 1), sleep=lambda s: None)
    # after the first page the cursor moves to just before the burst's millisecond; asked from
    # there, page 1 repeats the first (planned already), then the pages go on
    assert (progress.objects, progress.planned, progress.already_planned, progress.pages) == (330, 230, 100, 4)
    listed = [r for r in xero.sandbox.requests() if r["path"] == "/Contacts" and r["method"] == "GET"]
    assert [r["query"]["page"] for r in listed] == ["1", "1", "2", "3"]
    assert runtime.store.counts() == {"pending": 230}

