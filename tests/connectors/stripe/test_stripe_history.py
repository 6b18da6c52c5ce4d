"""Each Stripe trigger's history over a simulated week in the Stripe sandbox, over loopback HTTP:
one Page per Stripe list page, every request held to Stripe's OpenAPI spec, events shaped as
Stripe's (stable ``<type>:<object id>`` ids, ``created`` when it happened), the same
occurrences as the webhooks the sandbox sent, progress rising to 1, and enrichment reading
the backfilled events and every delivered one of the week."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
import pytest

import ledgerlink_stripe
from ledgerlink.contract import Page, Response
from ledgerlink.errors import VendorError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe import api, enrich, history
from stripe_openapi_requests import problems

KEY = "sk_test_sandbox"
SEED, START, DAYS = "week", 1693526400, 7  # 2023-09-01
#: the triggers whose event time the sandbox's webhooks show exactly; a dispute's closing
#: and a payout's failure have no time of their own on Stripe's objects (see history.py), and
#: a paid payout's is its arrival date, on the day Stripe's event comes
EXACT_TIME = set(history.LISTINGS) - {"charge.dispute.closed", "payout.failed", "payout.paid"}


def _stripe_accepts(request) -> None:
    assert problems(request) == [], request.url


@pytest.fixture(scope="module")
def week():
    """A week of simulated business, a void and an uncollectible invoice and two products on
    its last day, served on loopback; the sender holds every request to Stripe's spec."""
    app = create_sandbox(seed=SEED, start=START, simulate_days=DAYS, rate_limit=False)
    account = app.sandbox.account
    for close in (account.void_invoice, account.mark_uncollectible):
        customer = account.create_customer({"email": "late@example.com"})
        invoice = account.create_invoice({"customer": customer["id"], "currency": "eur"})
        account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"],
                                     "amount": "4200", "currency": "eur"})
        close(account.finalize_invoice(invoice["id"])["id"])
    for name in ("Bird food", "Nest box"):
        account.update_product(account.create_product({"name": name})["id"], {"description": "a week old"})
    with running(app) as served, httpx.Client(timeout=30) as client:
        send = HttpSender(client, api.auth({"api_key": KEY}), check=_stripe_accepts)
        yield app.sandbox, send, context("stripe", {"api_base": served.url})
    app.sandbox.stop()


def backfill(kind: str, since: float, until: float, ctx, send: Callable) -> list[Page]:
    """Every page of ``stripe.<kind>``'s history, as ``ledgerlink backfill`` pages it."""
    trigger_history = history.history_of(kind)
    pages: list[Page] = []
    cursor = None
    while True:
        driven = drive(trigger_history(since, until, cursor, ctx), send)
        assert len(driven.requests) == 1  # one Stripe list page per Page
        pages.append(driven.value)
        cursor = driven.value.cursor
        if cursor is None:
            return pages
        assert len(pages) < 50


def webhooks(sandbox, kind: str, since: int, until: int) -> dict[str, dict[str, Any]]:
    """The events the sandbox sent of ``kind`` about objects created in the range, by the id
    a backfilled event of the same occurrence has (a refund's for charge.refunded)."""
    store, found = sandbox.account.store, {}
    refunds = {(r["charge"], r["created"], r["amount"]): r for r in store.objects["refund"].values()}
    for event in store.objects["event"].values():
        if event["type"] != kind:
            continue
        obj = event["data"]["object"]
        if kind == "charge.refunded":
            increase = obj["amount_refunded"] - event["data"]["previous_attributes"]["amount_refunded"]
            obj = refunds[(obj["id"], event["created"], increase)]
        if since <= obj["created"] <= until:
            found[f"{kind}:{obj['id']}"] = event
    return found


@pytest.mark.parametrize("kind", sorted(history.LISTINGS))
def test_each_trigger_lists_the_weeks_occurrences_as_stripes_events(week, kind):
    sandbox, send, ctx = week
    until = sandbox.account.store.now()
    pages = backfill(kind, START, until, ctx, send)
    events = [event for page in pages for event in page.events]
    sent = webhooks(sandbox, kind, START, until)
    assert sorted(e.id for e in events) == sorted(sent), kind
    assert len(events) >= 1  # the week has every kind of occurrence
    validator = jsonschema.Draft202012Validator(ledgerlink_stripe.event_schema(kind))
    for event in events:
        payload = event.payload
        assert event.trigger == f"stripe.{kind}" and payload["id"] == event.id
        validator.validate(payload)
        assert payload["type"] == kind and payload["object"] == "event"
        assert payload["pending_webhooks"] == 0 and payload["request"] == {"id": None, "idempotency_key": None}
        assert payload["api_version"] == api.DEFAULT_API_VERSION
        webhook = sent[event.id]
        assert payload["data"]["object"]["id"] == webhook["data"]["object"]["id"]
        if kind in EXACT_TIME:
            assert payload["created"] == webhook["created"], event.id
        elif kind == "payout.paid":
            assert 0 <= webhook["created"] - payload["created"] < 86400, event.id
    assert [p.progress for p in pages][-1] == 1.0


@pytest.mark.parametrize("kind", ["invoice.paid", "charge.refunded", "charge.dispute.funds_withdrawn", "payout.paid"])
def test_ids_are_stable_across_two_listings(week, kind):
    sandbox, send, ctx = week
    until = sandbox.account.store.now()
    first = [e.payload for p in backfill(kind, START, until, ctx, send) for e in p.events]
    second = [e.payload for p in backfill(kind, START, until, ctx, send) for e in p.events]
    assert [e["id"] for e in first] == [e["id"] for e in second] and first
    assert first == second


def test_a_range_lists_only_objects_created_in_it(week):
    sandbox, send, ctx = week
    since, until = START + 2 * 86400, START + 4 * 86400 - 1
    events = [e for p in backfill("charge.succeeded", since, until, ctx, send) for e in p.events]
    assert events and all(since <= e.payload["data"]["object"]["created"] <= until for e in events)
    assert sorted(e.id for e in events) == sorted(webhooks(sandbox, "charge.succeeded", since, until))


def test_backfilled_refunds_and_payouts_are_enriched_as_delivered_ones(week):
    sandbox, send, ctx = week
    until = sandbox.account.store.now()
    refunds = [e for p in backfill("charge.refunded", START, until, ctx, send) for e in p.events]
    for event in refunds:
        refund = event.payload["refund"]
        assert event.id == f"charge.refunded:{refund['id']}" and refund["charge"] == event.payload["data"]["object"]["id"]
        enriched = drive(enrich.charge_refunded(event.payload, ctx), send).value
        assert enriched["refund"]["id"] == refund["id"]
        assert enriched["balance_transaction"]["source"] == refund["id"]
    payouts = [e for p in backfill("payout.paid", START, until, ctx, send) for e in p.events]
    assert payouts
    for event in payouts:
        enriched = drive(enrich.payout_paid(event.payload, ctx), send).value
        assert enriched["summary"]["net"] == event.payload["data"]["object"]["amount"]


def test_many_pages_report_rising_progress():
    app = create_sandbox(seed="pages", start=START, rate_limit=False)
    account = app.sandbox.account
    for number in range(205):  # one payment an hour: three list pages of 100
        account.create_payment({"amount": str(500 + number), "currency": "usd"})
        app.sandbox.clock.advance(3600)
    until = account.store.now()
    with running(app) as served, httpx.Client(timeout=30) as client:
        send = HttpSender(client, api.auth({"api_key": KEY}), check=_stripe_accepts)
        ctx = context("stripe", {"api_base": served.url})
        pages = backfill("charge.succeeded", START, until, ctx, send)
    assert [len(p.events) for p in pages] == [100, 100, 5]
    progress = [p.progress for p in pages]
    assert progress == sorted(progress) and 0 < progress[0] < progress[1] < 1 and progress[-1] == 1.0
    assert len({e.id for p in pages for e in p.events}) == 205
    app.sandbox.stop()


def test_progress_runs_from_until_back_to_since():
    assert history.progress(100, 200, 200) == 0.0
    assert history.progress(100, 200, 150) == 0.5
    assert history.progress(100, 200, 50) == 1.0
    assert history.progress(100, 100, 100) == 1.0


def test_the_triggers_without_history_say_why(week):
    from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
    catalog = load_catalog(build_plugin_manager(only="stripe"))
    for kind in ledgerlink_stripe.EVENT_TYPES:
        trigger = catalog.triggers[f"stripe.{kind}"]
        if kind in ("customer.updated", "product.updated", "invoice.payment_failed"):
            assert trigger.history is None and ledgerlink_stripe.NO_HISTORY in trigger.summary
        else:
            assert trigger.history is not None


def test_credit_notes_without_a_created_filter_are_read_until_one_is_older_than_the_range():
    """Stripe's 2023-08-16 credit note list takes no ``created``: the pages are read newest
    first, the objects outside the range skipped, and the listing ends at the first older one."""
    notes = [{"id": f"cn_{n}", "object": "credit_note", "created": created, "livemode": False}
             for n, created in enumerate((500, 400, 300, 150, 90))]
    answer = Response(200, json={"object": "list", "url": "/v1/credit_notes", "has_more": True, "data": notes})
    ctx = context("stripe", {})
    driven = drive(history.history_of("credit_note.created")(100, 450, None, ctx), [answer])
    page = driven.value
    assert [e.id for e in page.events] == ["credit_note.created:cn_1", "credit_note.created:cn_2",
                                           "credit_note.created:cn_3"]
    assert page.cursor is None and page.progress == 1.0
    (request,) = driven.requests
    assert "created[gte]" not in request.params and problems(request) == []


def test_a_page_with_more_gives_the_last_id_as_the_cursor_and_sends_it_back():
    charges = [{"id": f"ch_{n}", "object": "charge", "status": "succeeded", "created": 300 - n}
               for n in range(3)]
    answer = Response(200, json={"object": "list", "url": "/v1/charges", "has_more": True, "data": charges})
    trigger_history = history.history_of("charge.succeeded")
    first = drive(trigger_history(100, 300, None, context("stripe", {})), [answer])
    assert first.value.cursor == "ch_2" and first.value.progress == pytest.approx(2 / 200)
    assert first.requests[0].params["created[gte]"] == "100" and first.requests[0].params["created[lte]"] == "300"
    second = drive(trigger_history(100, 300, "ch_2", context("stripe", {})),
                   [Response(200, json={"object": "list", "url": "/v1/charges", "has_more": False, "data": []})])
    assert second.requests[0].params["starting_after"] == "ch_2"
    assert second.value.events == [] and second.value.cursor is None and second.value.progress == 1.0


def test_the_sandbox_refuses_an_invoice_status_stripe_does_not_know(week):
    sandbox, _, ctx = week
    with httpx.Client(timeout=10) as client, pytest.raises(VendorError) as refused:
        # sent as is (Stripe's spec would refuse it before it leaves)
        drive(api.pages(ctx, "/v1/invoices", {"status": "settled"}), HttpSender(client, api.auth({"api_key": KEY})))
    assert refused.value.kind == "permanent" and "Invalid status" in refused.value.message


def test_every_delivered_event_of_the_week_is_enriched_with_the_sandboxes_own_transactions(week):
    """Every invoice.paid, charge.succeeded, charge.refunded and payout.paid the sandbox sent in
    the week (four currencies, partial refunds, a negative payout), enriched as a worker would."""
    sandbox, send, ctx = week
    store = sandbox.account.store
    sent = [e for e in store.objects["event"].values() if e["type"] in enrich.FETCHES]
    refunds = {(r["charge"], r["created"], r["amount"]): r for r in store.objects["refund"].values()}
    seen = set()
    for webhook in sent:
        event = {**webhook, "data": {**webhook["data"]}}
        enriched = drive(enrich.FETCHES[event["type"]](event, ctx), send).value
        obj = event["data"]["object"]
        seen.add(event["type"])
        if event["type"] == "payout.paid":
            members = sandbox.account.ledger.in_payout(obj["id"]) - {obj["balance_transaction"]}
            assert {t["id"] for t in enriched["balance_transactions"]} == members
            assert enriched["summary"]["net"] == obj["amount"]
            continue
        if event["type"] == "charge.refunded":
            increase = obj["amount_refunded"] - event["data"]["previous_attributes"]["amount_refunded"]
            refund = refunds[(obj["id"], event["created"], increase)]
            assert enriched["refund"]["id"] == refund["id"]
            txn_id = refund["balance_transaction"]
        elif event["type"] == "invoice.paid":
            txn_id = store.get("charge", obj["charge"])["balance_transaction"] if obj["charge"] else None
        else:
            txn_id = obj["balance_transaction"]
        expected = store.served(store.get("balance_transaction", txn_id)) if txn_id else None
        assert enriched["balance_transaction"] == expected, event["id"]
    assert seen == set(enrich.FETCHES)
    assert any(e["data"]["object"]["amount"] < 0 for e in sent if e["type"] == "payout.paid")
