"""Stripe's side of ``ledgerlink reconcile``: the refunds and disputes of a period as records,
and the object each event's run books (``subject``), against the sandbox on loopback.

Twelve simulated days hold refunds (full and partial) and disputes, the first won (funds
withdrawn, then reinstated), the others lost (withdrawn only); a charge refunded twice is
added on the last day. Every request the listing sends is held to Stripe's spec, and the
official ``stripe`` SDK reads the same lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import stripe

from ledgerlink.contract import Record
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe import api, enrich, reconcile
from ledgerlink_stripe.money import to_major
from stripe_openapi_requests import problems

KEY = "sk_test_sandbox"
START, DAYS = 1693526400, 12  # 2023-09-01
SINCE, UNTIL = "2023-09-01", "2023-09-30"


def _stripe_accepts(request) -> None:
    assert problems(request) == [], request.url


def day(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date().isoformat()


@pytest.fixture(scope="module")
def days():
    """Twelve days of business, then a USD invoice paid and refunded twice (two events)."""
    app = create_sandbox(seed="reconcile", start=START, simulate_days=DAYS, rate_limit=False)
    account = app.sandbox.account
    customer = account.create_customer({"email": "twice@example.com"})
    invoice = account.create_invoice({"customer": customer["id"], "currency": "usd"})
    account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"], "amount": "9000",
                                 "currency": "usd"})
    paid = account.pay_invoice(account.finalize_invoice(invoice["id"])["id"], False)
    for amount in ("2000", "3000"):
        account.refund({"charge": paid["charge"], "amount": amount})
    with running(app) as served, httpx.Client(timeout=30) as client:
        send = HttpSender(client, api.auth({"api_key": KEY}), check=_stripe_accepts)
        yield app.sandbox, send, context("stripe", {"api_base": served.url}), served.url, paid["charge"]
    app.sandbox.stop()


def listed(send, ctx, since: str = SINCE, until: str = UNTIL) -> list[Record]:
    """Every record of the period, page after page, as the host reads them."""
    found: list[Record] = []
    cursor = None
    while True:
        page = drive(reconcile.records(since, until, cursor, ctx), send).value
        found += page.records
        if page.cursor is None:
            return found
        cursor = page.cursor


def events(sandbox, kind: str) -> list[dict[str, Any]]:
    return [e for e in sandbox.account.store.objects["event"].values() if e["type"] == kind]


def test_every_refund_of_the_period_is_listed_with_its_charge(days):
    sandbox, send, ctx, _, twice = days
    refunds = sandbox.account.store.objects["refund"].values()
    found = {r.id: r for r in listed(send, ctx) if r.kind == "refund"}
    assert len(found) == len(refunds) > DAYS / 2
    transactions = sandbox.account.store.objects["balance_transaction"]
    converted = 0
    for refund in refunds:
        # what the refund took from the balance, in the settlement currency, as recipes book it
        txn = transactions[refund["balance_transaction"]]
        label = f"refund of {refund['charge']}"
        if txn["currency"] != refund["currency"]:
            converted += 1
            label += f", {to_major(refund['amount'], refund['currency'])} {refund['currency'].upper()}"
        assert found[refund["id"]] == Record(
            kind="refund", id=refund["id"], amount=-txn["amount"], currency=txn["currency"].upper(),
            date=day(refund["created"]), entity="refund", label=label, parent=refund["charge"])
    assert converted and {r.currency for r in found.values()} == {"USD"}
    assert sorted(r.amount for r in found.values() if r.parent == twice) == [2000, 3000]  # USD: not converted
    # only the refunds dated in the period
    first = listed(send, ctx, SINCE, "2023-09-05")
    assert {r.id for r in first if r.kind == "refund"} == {
        r["id"] for r in refunds if day(r["created"]) <= "2023-09-05"}


def test_a_won_dispute_lists_its_withdrawal_and_reinstatement_a_lost_one_its_withdrawal(days):
    sandbox, send, ctx, _, _ = days
    disputes = sorted(sandbox.account.store.objects["dispute"].values(), key=lambda d: d["created"])
    statuses = [d["status"] for d in disputes]
    assert statuses.count("won") == 1 and statuses.count("lost") == len(disputes) - 1 >= 1
    found = [r for r in listed(send, ctx) if r.kind == "dispute"]
    expected = []
    for dispute in disputes:
        for txn in dispute["balance_transactions"]:
            withdrawn = txn["amount"] < 0
            expected.append(Record(
                kind="dispute", id=txn["id"], amount=abs(txn["amount"]), currency=txn["currency"].upper(),
                date=day(txn["created"]), entity="dispute" if withdrawn else "dispute_reversal",
                label=(f"dispute {dispute['id']} of {dispute['charge']}: funds withdrawn" if withdrawn
                       else f"dispute {dispute['id']} won: funds reinstated"), parent=dispute["charge"]))
    assert sorted(found, key=lambda r: r.id) == sorted(expected, key=lambda r: r.id)
    # a dispute opened before the period is still read when its funds come back in it
    won = next(d for d in disputes if d["status"] == "won")
    reinstated = day(won["balance_transactions"][1]["created"])
    later = listed(send, ctx, reinstated, UNTIL)
    assert won["balance_transactions"][1]["id"] in {r.id for r in later}
    assert day(won["balance_transactions"][0]["created"]) < reinstated
    assert won["balance_transactions"][0]["id"] not in {r.id for r in later}


def test_stripe_python_reads_the_same_refunds_and_disputes(days):
    sandbox, send, ctx, url, _ = days
    client = stripe.StripeClient(KEY, base_addresses={"api": url}, max_network_retries=0)
    window = {"gte": START, "lt": START + 40 * 86400}
    refunds = list(client.v1.refunds.list({"limit": 5, "created": window}).auto_paging_iter())
    disputes = list(client.v1.disputes.list({"limit": 1, "created": window}).auto_paging_iter())
    records = listed(send, ctx)
    assert {r.id for r in records if r.kind == "refund"} == {r.id for r in refunds if r.status == "succeeded"}
    assert {r.id for r in records if r.kind == "dispute"} == {
        t.id for d in disputes for t in d.balance_transactions}
    assert {d.status for d in disputes} == {"won", "lost"}


def test_each_event_names_what_its_run_books(days):
    sandbox, send, ctx, _, twice = days
    records = {r.id: r for r in listed(send, ctx)}
    # charge.refunded: its object is the charge; enriched as delivered, it names its refund
    refunded = events(sandbox, "charge.refunded")
    named = []
    for event in refunded:
        assert reconcile.subject("stripe.charge.refunded", event) is None  # the charge's refunds are not in it
        enriched = drive(enrich.charge_refunded(event, ctx), send).value
        named.append(reconcile.subject("stripe.charge.refunded", enriched))
    assert sorted(named) == sorted(r.id for r in records.values() if r.kind == "refund")
    # two refunds of one charge are two events, each naming its own refund
    assert len([n for n in named if records[n].parent == twice]) == 2
    # an event whose charge carries its refunds (API versions before 2022-11-15) names the one
    # its amount_refunded rose by
    second = next(e for e in refunded if e["data"]["object"]["id"] == twice and e["data"]["object"][
        "amount_refunded"] == 5000)
    own = [r for r in sandbox.account.store.objects["refund"].values() if r["charge"] == twice]
    with_refunds = {**second, "data": {**second["data"], "object": {
        **second["data"]["object"], "refunds": {"object": "list", "data": own}}}}
    assert records[reconcile.subject("stripe.charge.refunded", with_refunds)].amount == 3000
    # a dispute's funds events name the balance transaction each moved
    for kind, entity in (("charge.dispute.funds_withdrawn", "dispute"),
                         ("charge.dispute.funds_reinstated", "dispute_reversal")):
        found = [records[reconcile.subject(f"stripe.{kind}", e)] for e in events(sandbox, kind)]
        assert found and all(r.kind == "dispute" and r.entity == entity for r in found)
    assert len({reconcile.subject("stripe.charge.dispute.funds_withdrawn", e)
                for e in events(sandbox, "charge.dispute.funds_withdrawn")}) == len(
        sandbox.account.store.objects["dispute"])
    # the events whose runs book the object itself, and those that book nothing of Stripe's
    invoice = events(sandbox, "invoice.paid")[0]
    assert reconcile.subject("stripe.invoice.paid", invoice) == invoice["data"]["object"]["id"]
    for kind in ("charge.dispute.created", "charge.dispute.closed"):
        assert reconcile.subject(f"stripe.{kind}", events(sandbox, kind)[0]) is None
