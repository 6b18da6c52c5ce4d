"""The Stripe actions against the Stripe sandbox over loopback HTTP: the connector and the
imitation share no code, so this is where the client's requests meet Stripe's behaviour."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink.errors import VendorError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.stripe import create_sandbox
from ledgerlink_stripe import api
from ledgerlink_stripe.actions import ADD_INVOICE_NOTE, LIST_BALANCE_TRANSACTIONS, MARK_INVOICE_PAID

KEY = "sk_test_sandbox"


@pytest.fixture
def stripe():
    """The Stripe sandbox on loopback, a client sending as the connector would, and the
    context of a connection pointed at it."""
    with running(create_sandbox(seed="actions")) as served, httpx.Client(timeout=10) as client:
        send = HttpSender(client, api.auth({"api_key": KEY}))
        yield served, send, lambda key="step-1": context("stripe", {"api_base": served.url}, key=key)


def open_invoice(account, amount: str = "12000", currency: str = "usd") -> dict:
    customer = account.create_customer({"email": "ada@example.com"})
    invoice = account.create_invoice({"customer": customer["id"], "currency": currency})
    account.create_invoice_item({"customer": customer["id"], "invoice": invoice["id"],
                                 "amount": amount, "currency": currency})
    return account.finalize_invoice(invoice["id"])


def test_an_invoice_is_marked_paid_once_and_paying_again_is_not_an_error(stripe):
    served, send, ctx = stripe
    invoice = open_invoice(served.sandbox.account)
    paid = drive(MARK_INVOICE_PAID.perform({"invoice": invoice["id"]}, ctx()), send).value
    assert paid["status"] == "paid" and paid["id"] == invoice["id"]
    replayed = drive(MARK_INVOICE_PAID.perform({"invoice": invoice["id"]}, ctx()), send)
    assert replayed.value["status"] == "paid"  # the same key: Stripe's stored answer
    again = drive(MARK_INVOICE_PAID.perform({"invoice": invoice["id"]}, ctx("step-2")), send).value
    assert again["status"] == "paid" and again.get("already_paid") is True
    assert drive(MARK_INVOICE_PAID.find_existing({"invoice": invoice["id"]}, ctx()), send).value["id"] == invoice["id"]


def test_a_missing_invoice_is_refused_with_stripes_message(stripe):
    served, send, ctx = stripe
    with pytest.raises(VendorError) as refused:
        drive(MARK_INVOICE_PAID.perform({"invoice": "in_missing"}, ctx()), send)
    assert refused.value.kind == "permanent" and "in_missing" in refused.value.message


def test_a_note_is_written_into_the_invoice_metadata(stripe):
    served, send, ctx = stripe
    invoice = open_invoice(served.sandbox.account)
    out = drive(ADD_INVOICE_NOTE.perform({"invoice": invoice["id"], "note": "Paid by bank transfer"},
                                         ctx()), send).value
    stored = served.sandbox.account.store.get("invoice", invoice["id"])
    assert stored["metadata"]["ledgerlink_note"] == "Paid by bank transfer"
    assert out["previous_note"] is None


def test_a_payouts_balance_transactions_are_listed_across_pages_to_the_payout_amount(stripe):
    served, send, ctx = stripe
    account = served.sandbox.account
    for number in range(205):  # 205 card payments: three pages of 100
        account.create_payment({"amount": str(1000 + 37 * number), "currency": "usd"})
    served.sandbox.clock.advance(3 * 86400)
    payout = account.ledger.payout({}, automatic=True)
    listed = drive(LIST_BALANCE_TRANSACTIONS.perform({"payout": payout["id"], "type": "charge"}, ctx()),
                   send)
    charges = listed.value["data"]
    assert len(charges) == 205 and len(listed.requests) == 3
    assert len({t["id"] for t in charges}) == 205
    assert sum(t["net"] for t in charges) == payout["amount"]
    assert all(t["fee"] == t["amount"] - t["net"] for t in charges)
