"""The Stripe sandbox's simulated business: a month from a fixed seed, its money adding up.

The month is generated in-process once per module (option ``simulate_days``), then read over
loopback HTTP as a Stripe client reads it; a second run through ``POST /__sandbox/simulate``
shows the same seed gives the same bytes. Nothing reaches beyond loopback and no test
measures time: the sandbox clock is moved, never waited for.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import httpx
import pytest
import stripe

from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
import test_stripe_sandbox
from test_stripe_sandbox import AUTH, Receiver, ok

#: Stripe's OpenAPI validator of the sandbox tests (nullable handling as SOURCES.md says)
spec_errors = test_stripe_sandbox.spec_errors

SEED, START, DAYS = "month", 1693526400, 30  # 2023-09-01


@pytest.fixture(scope="module")
def month():
    app = create_sandbox(seed=SEED, start=START, simulate_days=DAYS, rate_limit=False)
    with running(app) as loopback, httpx.Client(base_url=f"{loopback.url}/v1", headers=AUTH) as api:
        yield app.sandbox, api
    app.sandbox.stop()


def every(api: httpx.Client, plural: str, **params: str) -> list[dict[str, Any]]:
    """All pages of a list, as a Stripe client pages it (``starting_after``)."""
    items: list[dict[str, Any]] = []
    while True:
        cursor = {"starting_after": items[-1]["id"]} if items else {}
        page = ok(api.get(f"/{plural}", params={"limit": "100", **params, **cursor}))
        items += page["data"]
        if not page["has_more"]:
            return items


def test_a_month_has_the_payments_refunds_disputes_and_payouts_of_a_business(month):
    sandbox, api = month
    charges = every(api, "charges")
    assert len(charges) >= 300
    by_currency = Counter(charge["currency"] for charge in charges)
    assert set(by_currency) == {"usd", "eur", "jpy", "kwd"} and min(by_currency.values()) >= 30
    assert sum(1 for charge in charges if charge["invoice"] is None) >= 30  # without an invoice
    refunds = every(api, "refunds")
    store = sandbox.account.store
    partial = [r for r in refunds if r["amount"] < store.get("charge", r["charge"])["amount"]]
    assert len(refunds) >= 10 and 0 < len(partial) < len(refunds)
    disputes = every(api, "disputes")
    assert len(disputes) >= 2 and {"won", "lost"} <= {d["status"] for d in disputes}
    assert len(every(api, "credit_notes")) >= 5
    invoices = every(api, "invoices")
    assert {i["currency"] for i in invoices} == {"usd", "eur", "jpy", "kwd"}
    types = Counter(event["type"] for event in every(api, "events"))
    for kind in ("customer.created", "invoice.paid", "charge.succeeded", "charge.refunded",
                 "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated",
                 "charge.dispute.closed", "credit_note.created", "payout.paid", "payout.failed"):
        assert types[kind] > 0, kind
    # the clock moved day by day: the month's objects are spread over its thirty days
    days = {(charge["created"] - START) // 86400 for charge in charges}
    assert days == set(range(DAYS))


def test_payments_in_other_currencies_carry_stripes_exchange_rate_and_fee(month):
    _, api = month
    for charge in every(api, "charges", **{"expand[]": "data.balance_transaction"})[:60]:
        txn = charge["balance_transaction"]
        assert txn["currency"] == "usd" and txn["fee"] > 0 and txn["net"] == txn["amount"] - txn["fee"]
        assert (txn["exchange_rate"] is None) == (charge["currency"] == "usd")


def test_every_payout_is_the_sum_of_its_transactions_and_leaves_the_balance_of_the_rest(month):
    sandbox, api = month
    payouts = every(api, "payouts")
    assert len(payouts) == DAYS
    assert sum(1 for p in payouts if p["amount"] < 0) == 1
    assert [p["status"] for p in payouts].count("failed") == 1
    assert {p["status"] for p in payouts} == {"paid", "failed"}
    for payout in payouts:
        members = every(api, "balance_transactions", payout=payout["id"])
        assert sum(t["net"] for t in members if t["type"] != "payout") == payout["amount"]
    failed = next(p for p in payouts if p["status"] == "failed")
    back = ok(api.get(f"/balance_transactions/{failed['failure_balance_transaction']}"))
    assert back["type"] == "payout_failure" and back["net"] == failed["amount"]
    # Stripe's balance right after each payout: the transactions not paid out (yet)
    ledger = sandbox.account.ledger
    made = sandbox.simulation.payouts
    assert [row["id"] for row in made] == [p["id"] for p in reversed(payouts)]
    txns = ledger.transactions()
    for row in made:
        payout = sandbox.account.store.get("payout", row["id"])
        remaining = [t for t in txns if t["created"] <= payout["created"]
                     and not _paid_out_by(ledger, t, payout["created"], sandbox)]
        total = sum(entry["amount"] for key in ("available", "pending") for entry in row["balance"][key])
        assert total == sum(t["net"] for t in remaining), row["id"]
    # every transaction is paid out at the end: nothing is left in the balance
    final = ok(api.get("/balance"))
    assert sum(entry["amount"] for key in ("available", "pending") for entry in final[key]) == 0


def _paid_out_by(ledger: Any, txn: dict[str, Any], moment: int, sandbox: Any) -> bool:
    """Whether ``txn`` was in a payout created at or before ``moment`` (or is one)."""
    payout_id = ledger.payout_of.get(txn["id"])
    return payout_id is not None and sandbox.account.store.get("payout", payout_id)["created"] <= moment


def test_every_object_of_the_month_validates_against_stripes_openapi(month, spec_errors):
    sandbox, _ = month
    store, errors = sandbox.account.store, []
    for kind, table in store.objects.items():
        for obj in table.values():
            served = store.served(obj)
            errors += spec_errors(kind, served)
            if kind == "event":  # with the object it carries, as it was then
                errors += spec_errors(served["data"]["object"]["object"], served["data"]["object"])
    assert sorted(set(errors)) == []


def test_the_same_seed_and_range_give_the_same_business_byte_for_byte():
    def run() -> str:
        app = create_sandbox(seed=SEED, start=START, rate_limit=False)
        with running(app) as loopback, httpx.Client(base_url=loopback.url, headers=AUTH) as http:
            made = http.post("/__sandbox/simulate", json={"seed": "again", "start": START, "days": 8})
            assert made.status_code == 200 and made.json()["counts"]["payouts"] == 8
            digest = hashlib.sha256(made.content)
            for plural in ("events", "balance_transactions"):
                cursor = None
                while True:
                    page = http.get(f"/v1/{plural}", params={"limit": "100", **(
                        {"starting_after": cursor} if cursor else {})})
                    digest.update(page.content)
                    if not page.json()["has_more"]:
                        break
                    cursor = page.json()["data"][-1]["id"]
        return digest.hexdigest()
    assert run() == run()


def test_ledgerlink_sandbox_stripe_generates_it_with_an_option():
    from ledgerlink.connectors.manager import load_catalog

    sandbox = load_catalog().sandbox("stripe")
    assert "simulate_days" in sandbox.options  # ledgerlink sandbox stripe --set simulate_days=30
    app = sandbox.factory(seed="option", simulate_days=6)
    made = app.sandbox.simulation.as_json()
    assert made["counts"]["payouts"] == 6 and made["counts"]["disputes"] >= 2
    assert [row["status"] for row in made["payouts"]].count("failed") == 1
    assert sum(1 for row in made["payouts"] if row["amount"] < 0) == 1


def test_a_range_behind_the_clock_or_of_no_days_is_refused():
    app = create_sandbox(seed=SEED, start=START)
    with running(app) as loopback, httpx.Client(base_url=loopback.url) as http:
        for body in ({"days": 0}, {"days": "30"}, {"start": START - 86400, "days": 2}):
            refused = http.post("/__sandbox/simulate", json=body)
            assert refused.status_code == 400 and "error" in refused.json(), body
    with pytest.raises(ValueError):
        create_sandbox(simulate_days=-1)


def test_each_event_is_sent_signed_as_it_happens():
    receiver = Receiver()
    with running(receiver) as endpoint:
        app = create_sandbox(seed="signed", start=START, webhook_url=endpoint.url,
                             webhook_secret="whsec_month", simulate_days=3)
        events = app.sandbox.account.store.objects["event"]
        receiver.wait_for(len(events))
        received = [stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_month")
                    for body, headers in receiver.sandbox]
        assert [event["id"] for event in received] == list(events)
        assert [event["created"] for event in received] == sorted(e["created"] for e in events.values())
        app.sandbox.stop()
