"""Stripe events enriched from the Stripe sandbox over loopback HTTP: each trigger's ``fetch``
against the sandbox's own balance transactions, field by field, every request held to Stripe's
OpenAPI spec; the Basil invoice shape against scripted answers; the enriched samples against
Stripe's schemas; and no fetch for a connection without an API key."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import jsonschema
import pytest

import ledgerlink_stripe
from ledgerlink.config import Config
from ledgerlink.contract import Request, Response
from ledgerlink.errors import VendorError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe import api, enrich
from stripe_openapi_requests import problems
import test_stripe_sandbox
import test_stripe_triggers

KEY = "sk_test_sandbox"
#: fixtures of the neighbouring modules: Stripe's OpenAPI validator, the plugin's catalog
spec_errors = test_stripe_sandbox.spec_errors
catalog = test_stripe_triggers.catalog
ENRICHED = ("invoice.paid", "charge.succeeded", "charge.refunded", "payout.paid")


def _stripe_accepts(request: Request) -> None:
    assert problems(request) == [], request.url


@pytest.fixture
def stripe():
    """The sandbox on loopback, a sender that holds every request to Stripe's spec, and the
    context of a connection pointed at the sandbox."""
    with running(create_sandbox(seed="enrich", rate_limit=False)) as served, httpx.Client(timeout=10) as client:
        send = HttpSender(client, api.auth({"api_key": KEY}), check=_stripe_accepts)
        yield served.sandbox, send, context("stripe", {"api_base": served.url})


def last_event(account, kind: str) -> dict[str, Any]:
    """The newest event of ``kind`` the sandbox emitted, as it was sent."""
    found = [e for e in account.store.objects["event"].values() if e["type"] == kind]
    return copy.deepcopy(found[-1])


def events_of(account, kind: str) -> list[dict[str, Any]]:
    return [copy.deepcopy(e) for e in account.store.objects["event"].values() if e["type"] == kind]


def sandbox_txn(account, ident: str) -> dict[str, Any]:
    store = account.store
    return store.served(store.get("balance_transaction", ident))


def assert_same(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every field of the sandbox's balance transaction, compared one by one."""
    assert sorted(found) == sorted(expected)
    for name in expected:
        assert found[name] == expected[name], name


def schema_valid(kind: str, event: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(ledgerlink_stripe.event_schema(kind)).validate(event)


def open_invoice(account, amount: str, currency: str) -> dict[str, Any]:
    customer = account.create_customer({"email": "ada@example.com"})
    invoice = account.create_invoice({"customer": customer["id"], "currency": currency})
    account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"],
                                 "amount": amount, "currency": currency})
    return account.finalize_invoice(invoice["id"])


# --- invoice.paid and charge.succeeded -----------------------------------------------------

def test_a_paid_invoice_carries_its_payments_balance_transaction_with_the_exchange_rate(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    invoice = account.pay_invoice(open_invoice(account, "12000", "eur")["id"])
    event = last_event(account, "invoice.paid")
    driven = drive(enrich.invoice_paid(event, ctx), send)
    charge = account.store.get("charge", invoice["charge"])
    expected = sandbox_txn(account, charge["balance_transaction"])
    assert_same(driven.value["balance_transaction"], expected)
    assert expected["exchange_rate"] is not None and expected["fee_details"] and expected["fee"] > 0
    assert len(driven.requests) == 1  # the charge, its balance transaction expanded
    assert driven.requests[0].params == {"expand[0]": "balance_transaction"}
    assert {k: v for k, v in driven.value.items() if k != "balance_transaction"} == event
    schema_valid("invoice.paid", driven.value)


def test_an_invoice_naming_only_its_payment_intent_reads_the_latest_charge(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    invoice = account.pay_invoice(open_invoice(account, "5000", "jpy")["id"])
    event = last_event(account, "invoice.paid")
    event["data"]["object"]["charge"] = None
    driven = drive(enrich.invoice_paid(event, ctx), send)
    charge = account.store.get("charge", invoice["charge"])
    assert_same(driven.value["balance_transaction"], sandbox_txn(account, charge["balance_transaction"]))
    assert [r.url.rsplit("/v1/", 1)[1] for r in driven.requests] == [f"payment_intents/{invoice['payment_intent']}"]


def test_an_invoice_paid_out_of_band_or_for_nothing_has_no_balance_transaction(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    account.pay_invoice(open_invoice(account, "7000", "usd")["id"], paid_out_of_band=True)
    out_of_band = drive(enrich.invoice_paid(last_event(account, "invoice.paid"), ctx), send)
    assert out_of_band.value["balance_transaction"] is None and out_of_band.requests == []
    customer = account.create_customer({"email": "zero@example.com"})
    empty = account.create_invoice({"customer": customer["id"], "currency": "usd"})
    account.pay_invoice(empty["id"])
    nothing = drive(enrich.invoice_paid(last_event(account, "invoice.paid"), ctx), send)
    assert nothing.value["balance_transaction"] is None and nothing.requests == []
    schema_valid("invoice.paid", nothing.value)


def test_a_charge_carries_its_balance_transaction(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    intent = account.create_payment({"amount": "2500", "currency": "kwd"})
    event = last_event(account, "charge.succeeded")
    driven = drive(enrich.charge_succeeded(event, ctx), send)
    charge = account.store.get("charge", intent["latest_charge"])
    assert_same(driven.value["balance_transaction"], sandbox_txn(account, charge["balance_transaction"]))
    assert len(driven.requests) == 1
    schema_valid("charge.succeeded", driven.value)


# --- charge.refunded -----------------------------------------------------------------------

def test_each_partial_refund_event_gets_its_own_refund(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    charge_id = account.create_payment({"amount": "10000", "currency": "usd"})["latest_charge"]
    first = account.refund({"charge": charge_id, "amount": "3000"})
    second = account.refund({"charge": charge_id, "amount": "2000"})  # the same second: told by amount
    sandbox.clock.advance(60)
    third = account.refund({"charge": charge_id, "amount": "3000"})  # as much as the first, later
    events = events_of(account, "charge.refunded")
    assert len(events) == 3
    for event, refund in zip(events, (first, second, third)):
        driven = drive(enrich.charge_refunded(event, ctx), send)
        assert driven.value["refund"]["id"] == refund["id"]
        assert_same(driven.value["balance_transaction"], sandbox_txn(account, refund["balance_transaction"]))
        assert driven.value["balance_transaction"]["amount"] < 0
        assert driven.requests[0].params["created[lte]"] == str(event["created"])
        assert len(driven.requests) == 1  # the refunds with their balance transactions expanded
        schema_valid("charge.refunded", driven.value)


def test_a_backfilled_refund_event_keeps_its_refund_and_reads_only_its_transaction(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    charge_id = account.create_payment({"amount": "4000", "currency": "eur"})["latest_charge"]
    refund = account.refund({"charge": charge_id, "amount": "1000"})
    event = {**last_event(account, "charge.refunded"), "refund": copy.deepcopy(refund)}
    driven = drive(enrich.charge_refunded(event, ctx), send)
    assert driven.value["refund"]["id"] == refund["id"]
    assert_same(driven.value["balance_transaction"], sandbox_txn(account, refund["balance_transaction"]))
    assert [r.url.rsplit("/v1/", 1)[1] for r in driven.requests] == [
        f"balance_transactions/{refund['balance_transaction']}"]


def test_pick_refund_takes_the_newest_matching_refund_at_or_before_the_event():
    refunds = [{"id": "re_new", "amount": 500, "created": 30, "status": "succeeded"},
               {"id": "re_failed", "amount": 300, "created": 20, "status": "failed"},
               {"id": "re_mid", "amount": 300, "created": 20, "status": "succeeded"},
               {"id": "re_old", "amount": 300, "created": 10, "status": "succeeded"}]
    assert enrich.pick_refund(refunds, 25, 300)["id"] == "re_mid"
    assert enrich.pick_refund(refunds, 15, 300)["id"] == "re_old"
    assert enrich.pick_refund(refunds, 40, None)["id"] == "re_new"
    assert enrich.pick_refund(refunds, 40, 999) is None


# --- payout.paid ---------------------------------------------------------------------------

def test_a_payout_carries_every_balance_transaction_over_three_pages_and_a_summary_equal_to_it(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    for number in range(205):  # 205 card payments in three currencies, one refund
        currency = ("usd", "eur", "jpy")[number % 3]
        account.create_payment({"amount": str(1000 + 37 * number), "currency": currency})
    account.refund({"charge": account.store.get("payment_intent", next(iter(
        account.store.objects["payment_intent"])))["latest_charge"], "amount": "500"})
    sandbox.clock.advance(3 * 86400)
    payout = account.ledger.payout({}, automatic=True)
    sandbox.clock.advance(3 * 86400)
    account.ledger.settle(payout["id"])
    event = last_event(account, "payout.paid")
    assert event["data"]["object"]["id"] == payout["id"]
    driven = drive(enrich.payout_paid(event, ctx), send)
    listed, summary = driven.value["balance_transactions"], driven.value["summary"]
    assert len(driven.requests) == 3  # 207 lines with the payout's own: three pages of 100
    members = account.ledger.in_payout(payout["id"]) - {payout["balance_transaction"]}
    assert {t["id"] for t in listed} == members and len(listed) == 206
    for txn in listed:
        assert_same(txn, sandbox_txn(account, txn["id"]))
    assert summary["net"] == payout["amount"] == sum(t["net"] for t in listed)
    assert summary["count"] == 206 and summary["currency"] == payout["currency"]
    assert summary["amount"] - summary["fee"] == summary["net"]
    rows = {(r["type"], r["currency"]): r for r in summary["by_type"]}
    assert rows[("charge", "usd")]["count"] == 205 and rows[("refund", "usd")]["count"] == 1
    assert sum(r["net"] for r in rows.values()) == payout["amount"]
    schema_valid("payout.paid", driven.value)


def test_a_manual_payout_is_not_itemized_as_stripe_refuses_to(stripe):
    sandbox, send, ctx = stripe
    account = sandbox.account
    account.create_payment({"amount": "9000", "currency": "usd"})
    sandbox.clock.advance(3 * 86400)
    manual = account.ledger.payout({"amount": "1000"}, automatic=False)
    event = {"id": "evt_manual", "object": "event", "type": "payout.paid", "created": manual["created"],
             "livemode": False, "data": {"object": manual}}
    driven = drive(enrich.payout_paid(event, ctx), send)
    assert driven.value["balance_transactions"] is None and driven.value["summary"] is None
    assert driven.requests == []
    with pytest.raises(VendorError) as refused:  # what the sandbox answers, as Stripe does
        drive(api.pages(ctx, "/v1/balance_transactions", {"payout": manual["id"]}), send)
    assert refused.value.kind == "permanent" and "automatic" in refused.value.message


# --- the Basil invoice shape (2025-03-31.basil and later) ---------------------------------

def test_a_basil_invoice_is_read_with_its_payments_at_the_events_version():
    txn = {"id": "txn_1", "object": "balance_transaction", "amount": 1000, "fee": 59, "net": 941}
    event = {"id": "evt_1", "object": "event", "type": "invoice.paid", "api_version": "2025-03-31.basil",
             "created": 1, "data": {"object": {"id": "in_1", "object": "invoice", "amount_paid": 1000}}}
    answers = iter([
        Response(200, json={"id": "in_1", "object": "invoice", "payments": {"object": "list", "has_more": False, "data": [
            {"object": "invoice_payment", "status": "canceled", "payment": {"type": "payment_intent", "payment_intent": "pi_0"}},
            {"object": "invoice_payment", "status": "paid", "is_default": True,
             "payment": {"type": "payment_intent", "payment_intent": "pi_1"}}]}}),
        Response(200, json={"id": "pi_1", "object": "payment_intent",
                            "latest_charge": {"id": "ch_1", "object": "charge", "balance_transaction": txn}}),
    ])
    driven = drive(enrich.invoice_paid(event, context("stripe", {})), lambda request: next(answers))
    assert driven.value["balance_transaction"] == txn
    first, second = driven.requests
    assert first.url.endswith("/v1/invoices/in_1") and first.params == {"expand[0]": "payments"}
    assert first.headers["Stripe-Version"] == "2025-03-31.basil"
    assert second.params == {"expand[0]": "latest_charge.balance_transaction"}
    assert all(problems(r) == [] for r in driven.requests)


def test_a_basil_invoice_with_its_payments_included_needs_no_invoice_read():
    event = {"id": "evt_1", "object": "event", "type": "invoice.paid", "api_version": "2025-03-31.basil",
             "created": 1, "data": {"object": {"id": "in_1", "object": "invoice", "amount_paid": 1000, "payments": {
                 "object": "list", "has_more": False,
                 "data": [{"status": "paid", "payment": {"type": "charge", "charge": "ch_9"}}]}}}}
    txn = {"id": "txn_9", "object": "balance_transaction"}
    driven = drive(enrich.invoice_paid(event, context("stripe", {})),
                   lambda request: Response(200, json={"id": "ch_9", "balance_transaction": txn}))
    assert driven.value["balance_transaction"] == txn
    assert [r.url.rsplit("/v1/", 1)[1] for r in driven.requests] == ["charges/ch_9"]


# --- which connections fetch, the triggers and their samples -------------------------------

def test_only_a_connection_with_an_api_key_fetches(catalog):
    config = Config("ledgerlink.toml", {
        "keyed": {"connector": "stripe", "webhook_secret": "${WHSEC}", "api_key": "${STRIPE_API_KEY}"},
        "webhooks_only": {"connector": "stripe", "webhook_secret": "${WHSEC}"}})
    keyed, plain = config.connection("keyed", catalog), config.connection("webhooks_only", catalog)
    assert "api_key" not in keyed.settings and keyed.configured_secrets == {"webhook_secret", "api_key"}
    for kind in ENRICHED:
        trigger = catalog.triggers[f"stripe.{kind}"]
        assert trigger.fetch is enrich.FETCHES[kind]
        assert trigger.fetch_for(keyed) is True and trigger.fetch_for(plain) is False
    others = [t for name, t in catalog.triggers.items() if name.startswith("stripe.") and t.fetch is not None]
    assert sorted(t.name for t in others) == sorted(f"stripe.{k}" for k in ENRICHED)


def test_occurrence_paths_follow_the_object_each_event_is_about(catalog):
    paths = {name[len("stripe."):]: t.occurrence_path for name, t in catalog.triggers.items()
             if name.startswith("stripe.")}
    assert paths.pop("charge.refunded") == "$.refund.id"
    assert paths.pop("customer.updated") == paths.pop("product.updated") == paths.pop("invoice.payment_failed") == ""
    assert set(paths.values()) == {"$.data.object.id"}


@pytest.mark.parametrize("kind", ENRICHED)
def test_the_enriched_samples_agree_with_stripes_openapi_spec(catalog, spec_errors, kind):
    errors = spec_errors
    sample = catalog.triggers[f"stripe.{kind}"].sample
    for txn in sample.get("balance_transactions") or [sample.get("balance_transaction")]:
        assert txn is not None and errors("balance_transaction", txn) == []
    if kind == "charge.refunded":
        assert errors("refund", sample["refund"]) == []
        assert sample["refund"]["balance_transaction"] == sample["balance_transaction"]["id"]
    if kind == "payout.paid":
        assert sample["summary"] == enrich.summarize(sample["balance_transactions"], "usd")
        assert sample["summary"]["net"] == sample["data"]["object"]["amount"]


def test_a_charge_without_a_transaction_when_sent_is_read_again_with_it_expanded():
    event = {"id": "evt_1", "object": "event", "type": "charge.succeeded", "created": 1,
             "data": {"object": {"id": "ch_1", "object": "charge", "balance_transaction": None}}}
    txn = {"id": "txn_1", "object": "balance_transaction"}
    driven = drive(enrich.charge_succeeded(event, context("stripe", {})),
                   [Response(200, json={"id": "ch_1", "object": "charge", "balance_transaction": txn})])
    assert driven.value["balance_transaction"] == txn
    assert driven.requests[0].params == {"expand[0]": "balance_transaction"}
    still_none = drive(enrich.charge_succeeded(event, context("stripe", {})),
                       [Response(200, json={"id": "ch_1", "object": "charge", "balance_transaction": None})])
    assert still_none.value["balance_transaction"] is None and len(still_none.requests) == 1


def test_a_basil_event_on_a_connection_pinned_to_an_older_version_reads_the_old_shape():
    event = {"id": "evt_1", "object": "event", "type": "invoice.paid", "api_version": "2025-03-31.basil",
             "created": 1, "data": {"object": {"id": "in_1", "object": "invoice", "amount_paid": 1000}}}
    txn = {"id": "txn_2", "object": "balance_transaction"}
    answers = [Response(200, json={"id": "in_1", "object": "invoice", "amount_paid": 1000, "charge": "ch_2",
                                   "payment_intent": "pi_2", "paid_out_of_band": False}),
               Response(200, json={"id": "ch_2", "object": "charge", "balance_transaction": txn})]
    driven = drive(enrich.invoice_paid(event, context("stripe", {})), answers)
    assert driven.value["balance_transaction"] == txn
    assert [r.url.rsplit("/v1/", 1)[1] for r in driven.requests] == ["invoices/in_1", "charges/ch_2"]


def test_stripes_refusal_while_enriching_is_its_classified_error():
    event = {"id": "evt_1", "object": "event", "type": "charge.succeeded", "created": 1,
             "data": {"object": {"id": "ch_1", "object": "charge", "balance_transaction": "txn_1"}}}
    forbidden = Response(403, json={"error": {"type": "invalid_request_error", "message":
                         "The provided key 'rk_test_***' does not have the required permissions for this "
                         "endpoint. Having the 'rak_balance_transaction_source_read' permission would allow this request."}})
    with pytest.raises(VendorError) as refused:
        drive(enrich.charge_succeeded(event, context("stripe", {})), [forbidden])
    assert refused.value.kind == "permanent" and "rak_balance_transaction_source_read" in refused.value.message


def test_the_summary_books_by_reporting_category_and_fee_type():
    """A dispute and its reversal are both ``type=adjustment``: only the reporting category
    tells them apart; fees are summed per fee type from ``fee_details`` and with the
    categories' amounts give the net exactly."""
    def txn(ident, kind, category, amount, fees):
        details = [{"amount": a, "currency": "usd", "type": t, "description": None, "application": None}
                   for t, a in fees]
        fee = sum(a for _, a in fees)
        return {"id": ident, "type": kind, "reporting_category": category, "currency": "usd",
                "amount": amount, "fee": fee, "net": amount - fee, "fee_details": details}
    listed = [txn("txn_1", "charge", "charge", 10000, [("stripe_fee", 320), ("tax", 30)]),
              txn("txn_2", "adjustment", "dispute", -5000, [("stripe_fee", 1500)]),
              txn("txn_3", "adjustment", "dispute_reversal", 5000, []),
              txn("txn_4", "refund", "refund", -2000, [("stripe_fee", -10)])]
    summary = enrich.summarize(listed, "usd")
    assert [(r["type"], r["count"], r["amount"]) for r in summary["by_type"]] == \
        [("adjustment", 2, 0), ("charge", 1, 10000), ("refund", 1, -2000)]
    assert [(r["reporting_category"], r["amount"], r["fee"]) for r in summary["by_category"]] == \
        [("charge", 10000, 350), ("dispute", -5000, 1500), ("dispute_reversal", 5000, 0), ("refund", -2000, -10)]
    assert [(r["type"], r["count"], r["amount"]) for r in summary["fees"]] == [("stripe_fee", 3, 1810), ("tax", 1, 30)]
    assert sum(r["amount"] for r in summary["by_category"]) - sum(r["amount"] for r in summary["fees"]) \
        == summary["net"] == 10000 - 350 - 5000 - 1500 + 5000 - 2000 + 10
    listed[0]["fee_details"][0]["amount"] = 319  # fee_details that do not add up to the fee
    with pytest.raises(VendorError):
        enrich.summarize(listed, "usd")
