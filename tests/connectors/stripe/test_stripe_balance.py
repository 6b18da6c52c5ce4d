"""Stripe's side of the clearing-account check (``ledgerlink_stripe.balance``) against the
Stripe sandbox over loopback HTTP: at the end of a day, the balance (every balance
transaction created by then, pending or available: charges less their fees, a refund, a
dispute's withdrawal, a payout's own transaction when the payout is created, a failed
payout's return) plus the payouts created and not yet arrived; a charge presented in another
currency counts in the settlement currency; the day ends in the time zone named; three
requests while nothing later needs paging, each held to Stripe's OpenAPI spec."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink.errors import ConfigError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe import api
from ledgerlink_stripe.balance import balance
from stripe_openapi_requests import problems

KEY = "sk_test_sandbox"
START, HOUR, DAY = 1693526400, 3600, 86400  # 2023-09-01 00:00 UTC


@pytest.fixture(scope="module")
def days():
    """Five days of one EUR-settled account, each movement at a known time (see the steps)."""
    app = create_sandbox(seed="balance", start=START, rate_limit=False, settlement_currency="eur")
    sandbox = app.sandbox
    account, ledger = sandbox.account, sandbox.account.ledger
    moments: dict[str, str] = {}

    def at(day: int, hour: int) -> None:
        sandbox.clock.advance(START + day * DAY + hour * HOUR - sandbox.account.store.now())

    at(0, 10)
    sale = account.create_charge({"amount": "10000", "currency": "eur", "source": "tok_visa"})
    at(0, 12)
    account.refund({"charge": sale["id"], "amount": "1000"})
    at(1, 2)  # 2023-09-01 22:00 in New York
    foreign = account.create_charge({"amount": "5000", "currency": "usd", "source": "tok_visa"})
    at(1, 9)
    account.dispute(foreign["id"])
    at(2, 2)
    moments["first"] = ledger.payout({}, automatic=True)["id"]  # day 0's, arrives on day 4
    at(3, 2)
    moments["second"] = ledger.payout({}, automatic=True)["id"]  # day 1's, arrives on day 5: fails
    at(4, 3)
    ledger.settle(moments["first"])
    at(5, 3)
    ledger.settle(moments["second"], failed=True)
    with running(app) as served, httpx.Client(timeout=30) as client:
        yield sandbox, HttpSender(client, api.auth({"api_key": KEY}), check=_stripe_accepts), context("stripe", {"api_base": served.url}), moments
    sandbox.stop()


def _stripe_accepts(request) -> None:
    assert problems(request) == [], request.url


def held(sandbox, until: int, in_transit: tuple[str, ...] = ()) -> int:
    """What the sandbox's own transactions say: Σ net created before ``until``, plus the
    amounts of the payouts named as in transit then."""
    store = sandbox.account.store
    return (sum(t["net"] for t in sandbox.account.ledger.transactions() if t["created"] < until)
            + sum(store.get("payout", ident)["amount"] for ident in in_transit))


def test_a_day_of_pending_charges_less_fees_and_a_refund(days):
    sandbox, send, ctx, _ = days
    driven = drive(balance("2023-09-01", ctx), send)
    found = driven.value
    charge, refund = [t for t in sandbox.account.ledger.transactions() if t["created"] < START + DAY]
    assert (charge["type"], refund["type"]) == ("charge", "refund") and charge["fee"] > 0
    # nothing is available yet: the pending balance counts
    assert found == {"EUR": charge["net"] + refund["net"]} == {"EUR": 10000 - charge["fee"] - 1000}
    assert [r.url.rsplit("/", 1)[-1] for r in driven.requests] == ["balance", "balance_transactions", "payouts"]


def test_a_charge_presented_in_another_currency_and_its_dispute_count_in_the_settlement_currency(days):
    sandbox, send, ctx, _ = days
    found = drive(balance("2023-09-02", ctx), send).value
    assert set(found) == {"EUR"} and found["EUR"] == held(sandbox, START + 2 * DAY)
    dispute = [t for t in sandbox.account.ledger.transactions() if t["type"] == "adjustment"]
    assert len(dispute) == 1 and dispute[0]["net"] < 0 and dispute[0]["fee"] > 0


def test_the_day_ends_in_the_time_zone_named(days):
    sandbox, send, ctx, _ = days
    utc = drive(balance("2023-09-01", ctx), send).value
    new_york = drive(balance("2023-09-01 America/New_York", ctx), send).value
    assert utc == {"EUR": held(sandbox, START + DAY)}
    # 2023-09-02 before 04:00 UTC is still 2023-09-01 in New York: the foreign charge at 02:00 counts there
    assert new_york == {"EUR": held(sandbox, START + DAY + 4 * HOUR)} != utc
    with pytest.raises(ConfigError, match="IANA time zone"):
        drive(balance("2023-08-31 Mars/Olympus", ctx), send)


def test_a_payout_counts_in_transit_from_its_creation_until_it_arrives_or_fails(days):
    sandbox, send, ctx, moments = days
    first, second = moments["first"], moments["second"]
    expected = {"2023-09-03": (first,),            # created on day 2, arriving on day 4
                "2023-09-04": (first, second),     # both on their way
                "2023-09-05": (second,),           # the first arrived; the second not yet failed
                "2023-09-06": ()}                  # failed: its amount is back in the balance
    for offset, (day, transit) in enumerate(expected.items(), start=3):
        found = drive(balance(day, ctx), send).value
        assert found == {"EUR": held(sandbox, START + offset * DAY, transit)}, day
    # in transit or not, the clearing account's figure never moves with a payout's creation
    everything = sum(t["net"] for t in sandbox.account.ledger.transactions() if t["type"] != "payout"
                     and t["type"] != "payout_failure")
    assert drive(balance("2023-09-04", ctx), send).value == {"EUR": everything}
    assert sandbox.account.store.get("payout", second)["status"] == "failed"
