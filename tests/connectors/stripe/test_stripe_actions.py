"""The Stripe actions driven by hand (``drive`` + ``Script``): each request exactly, the answers
read with exact money, an invoice already paid, input problems, what an earlier attempt did;
and their requests over real loopback HTTP as the host builds them."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from flask import Flask, jsonify, request

from ledgerlink.contract import Response
from ledgerlink.errors import InputError, VendorError
from ledgerlink.testing import HttpSender, Script, drive
from ledgerlink.testing.actions import context
from ledgerlink.testing.conformance import dry_run_sample, installed_plugin, registered
from ledgerlink.testing.sandbox import running
from ledgerlink_stripe import api
from ledgerlink_stripe.actions import (ADD_INVOICE_NOTE, LIST_BALANCE_TRANSACTIONS, MARK_INVOICE_PAID,
                                       RETRIEVE_INVOICE)
from stripe_openapi_requests import problems

KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
BASE = "http://127.0.0.1:12111"


def ctx(key: str = "run-1-step-pay", **settings: str):
    return context("stripe", {"api_base": BASE, **settings}, key=key)


def invoice(status: str = "open", **fields):
    return {"id": "in_1", "object": "invoice", "status": status, "currency": "jpy", "amount_due": 5000,
            "amount_paid": 5000 if status == "paid" else 0, "amount_remaining": 0 if status == "paid" else 5000,
            "paid_out_of_band": status == "paid", "metadata": {}, **fields}


def stripe_error(status: int, **error) -> Response:
    return Response(status, json={"error": error})


def vendor_checked(driven):
    """Every request the actions yielded fits Stripe's spec."""
    found = [p for r in driven.requests for p in problems(r)]
    assert found == []
    return driven


# --- stripe.mark_invoice_paid -------------------------------------------------------------

def test_mark_paid_posts_paid_out_of_band_with_the_steps_key():
    done = vendor_checked(drive(MARK_INVOICE_PAID.perform({"invoice": "in_1"}, ctx()), Script(invoice("paid"))))
    [sent] = done.requests
    assert (sent.method, sent.url, list(sent.form)) == ("POST", f"{BASE}/v1/invoices/in_1/pay",
                                                         [("paid_out_of_band", "true")])
    assert sent.headers["Idempotency-Key"] == "run-1-step-pay" and sent.json is None
    assert done.value["status"] == "paid" and done.value["already_paid"] is False
    assert done.value["amount_paid"] == 5000      # JPY minor units, as Stripe sends them


def test_an_invoice_already_paid_is_read_back_and_returned():
    done = vendor_checked(drive(MARK_INVOICE_PAID.perform({"invoice": "in_1"}, ctx()), Script(
        stripe_error(400, type="invalid_request_error", code="invoice_already_paid", message="Invoice is already paid"),
        invoice("paid"))))
    assert [r.method for r in done.requests] == ["POST", "GET"]
    assert done.requests[1].url == f"{BASE}/v1/invoices/in_1"
    assert done.value["already_paid"] is True and done.value["id"] == "in_1"


def test_a_refusal_of_an_invoice_not_paid_stays_a_refusal():
    with pytest.raises(VendorError) as refused:
        drive(MARK_INVOICE_PAID.perform({"invoice": "in_1"}, ctx()), Script(
            stripe_error(400, type="invalid_request_error", message="This invoice is void", param="invoice"),
            invoice("void")))
    assert refused.value.kind == "permanent" and "This invoice is void (param: invoice)" in refused.value.message


def test_mark_paid_with_a_refused_key_reads_nothing_more():
    driven = None
    with pytest.raises(VendorError) as refused:
        driven = drive(MARK_INVOICE_PAID.perform({"invoice": "in_1"}, ctx()),
                       Script(stripe_error(401, type="invalid_request_error", message="Invalid API Key provided")))
    assert refused.value.kind == "reauth" and driven is None


def test_mark_paid_finds_what_an_earlier_attempt_did():
    assert drive(MARK_INVOICE_PAID.find_existing({"invoice": "in_1"}, ctx()),
                 Script(invoice("paid"))).value["status"] == "paid"
    assert drive(MARK_INVOICE_PAID.find_existing({"invoice": "in_1"}, ctx()), Script(invoice("open"))).value is None


def test_mark_paid_declares_it_cannot_be_undone():
    assert MARK_INVOICE_PAID.undo is None and "cannot un-pay" in MARK_INVOICE_PAID.summary


@pytest.mark.parametrize("data, pointer", [({"invoice": "ch_1"}, "/invoice"), ({}, "/invoice"),
                                           ({"invoice": "in_1", "amount": 5}, "/amount")])
def test_mark_paid_input_problems_name_their_pointer_before_any_request(data, pointer):
    with pytest.raises(InputError) as refused:
        drive(MARK_INVOICE_PAID.perform(data, ctx()), Script())
    assert any(p.startswith(pointer) for p in refused.value.details["problems"])


# --- stripe.add_invoice_note --------------------------------------------------------------

def test_a_note_reads_the_previous_value_then_sets_one_metadata_key():
    before = invoice(metadata={"ledgerlink_note": "old", "order": "A-17"})
    after = invoice(metadata={"ledgerlink_note": "Paid by bank transfer", "order": "A-17"})
    done = vendor_checked(drive(ADD_INVOICE_NOTE.perform(
        {"invoice": "in_1", "note": "Paid by bank transfer"}, ctx("run-2-step-note")), Script(before, after)))
    read, write = done.requests
    assert (read.method, read.url, dict(read.params)) == ("GET", f"{BASE}/v1/invoices/in_1", {})
    assert (write.method, write.url, list(write.form)) == (
        "POST", f"{BASE}/v1/invoices/in_1", [("metadata[ledgerlink_note]", "Paid by bank transfer")])
    assert write.headers["Idempotency-Key"] == "run-2-step-note" and "Idempotency-Key" not in read.headers
    assert done.value["previous_note"] == "old" and done.value["metadata"]["order"] == "A-17"


def test_a_note_under_its_own_key_with_none_before():
    done = drive(ADD_INVOICE_NOTE.perform({"invoice": "in_1", "note": "x", "key": "books"}, ctx()),
                 Script(invoice(), invoice(metadata={"books": "x"})))
    assert list(done.requests[1].form) == [("metadata[books]", "x")] and done.value["previous_note"] is None


def test_note_input_problems_are_all_named_at_once():
    with pytest.raises(InputError) as refused:
        drive(ADD_INVOICE_NOTE.perform({"invoice": "nope", "note": "n" * 501, "key": "a[b]"}, ctx()), Script())
    assert [p.split(":")[0] for p in refused.value.details["problems"]] == ["/invoice", "/note", "/key"]


def test_a_note_is_found_when_the_invoice_holds_it():
    data = {"invoice": "in_1", "note": "x"}
    assert drive(ADD_INVOICE_NOTE.find_existing(data, ctx()),
                 Script(invoice(metadata={"ledgerlink_note": "x"}))).value["id"] == "in_1"
    assert drive(ADD_INVOICE_NOTE.find_existing(data, ctx()), Script(invoice())).value is None


# --- stripe.retrieve_invoice --------------------------------------------------------------

def test_retrieve_expands_what_it_is_asked_to():
    done = vendor_checked(drive(RETRIEVE_INVOICE.perform({"invoice": "in_1", "expand": ["payment_intent", "charge"]},
                                                         ctx(stripe_account="acct_1")), Script(invoice())))
    [sent] = done.requests
    assert dict(sent.params) == {"expand[0]": "payment_intent", "expand[1]": "charge"}
    assert sent.headers == {"Stripe-Version": api.DEFAULT_API_VERSION, "Stripe-Account": "acct_1"}
    assert done.value["id"] == "in_1"


def test_retrieve_of_a_missing_invoice_is_permanent():
    with pytest.raises(VendorError) as refused:
        drive(RETRIEVE_INVOICE.perform({"invoice": "in_404"}, ctx()), Script(stripe_error(
            404, type="invalid_request_error", code="resource_missing", param="invoice",
            message="No such invoice: 'in_404'")))
    assert refused.value.kind == "permanent" and "No such invoice" in refused.value.message


# --- stripe.list_balance_transactions -----------------------------------------------------

def txn(n: int, **fields):
    return {"id": f"txn_{n}", "object": "balance_transaction", "amount": 1000 * n, "fee": 59, "net": 1000 * n - 59,
            "currency": "usd", "type": "charge", "reporting_category": "charge", "source": f"ch_{n}",
            "exchange_rate": None, **fields}


def test_balance_transactions_of_a_payout_over_three_pages():
    data = {"payout": "po_1", "type": "charge", "source": "ch_1", "currency": "usd",
            "created": {"gte": 1693526400, "lt": 1696118400}}
    done = vendor_checked(drive(LIST_BALANCE_TRANSACTIONS.perform(data, ctx()), Script(
        {"object": "list", "has_more": True, "data": [txn(1), txn(2)]},
        {"object": "list", "has_more": True, "data": [txn(3)]},
        {"object": "list", "has_more": False, "data": [txn(4, exchange_rate=Decimal("1.0850"))]})))
    filters = {"payout": "po_1", "type": "charge", "source": "ch_1", "currency": "usd",
               "created[gte]": "1693526400", "created[lt]": "1696118400", "limit": "100"}
    assert [dict(r.params) for r in done.requests] == [
        filters, {**filters, "starting_after": "txn_2"}, {**filters, "starting_after": "txn_3"}]
    assert done.value["count"] == 4 and [t["id"] for t in done.value["data"]] == ["txn_1", "txn_2", "txn_3", "txn_4"]
    assert done.value["data"][3]["exchange_rate"] == Decimal("1.0850")
    summary = done.value["summary"]  # their totals, as a payout's enrichment has them
    assert summary["net"] == 10000 - 4 * 59 and summary["fees"] == []  # listed without fee_details
    assert [(r["reporting_category"], r["count"], r["amount"], r["net"]) for r in summary["by_category"]] == \
        [("charge", 4, 10000, 10000 - 4 * 59)]


def test_balance_transaction_filters_are_checked():
    with pytest.raises(InputError) as refused:
        drive(LIST_BALANCE_TRANSACTIONS.perform({"payout": 5, "created": {"gte": "yesterday"}, "colour": "x"}, ctx()),
              Script())
    assert [p.split(":")[0] for p in refused.value.details["problems"]] == ["/colour", "/payout", "/created"]


# --- dry-run and the wire -----------------------------------------------------------------

def test_a_dry_run_shows_the_form_as_sent_and_the_key_redacted():
    plugin = installed_plugin("stripe")
    [connector] = registered(plugin).connector
    shown = dry_run_sample(connector, MARK_INVOICE_PAID, "stripe").step["request"]
    assert shown["body"] == "paid_out_of_band=true"
    assert shown["headers"]["authorization"] == "Bearer [REDACTED]"
    assert shown["headers"]["content-type"] == "application/x-www-form-urlencoded"


def echo_app() -> Flask:
    """A loopback server that answers each request with what it received."""
    app = Flask("stripe_echo")
    app.sandbox = received = []

    @app.route("/v1/<path:rest>", methods=["GET", "POST"])
    def echo(rest):
        raw = request.get_data(cache=True, as_text=True)
        received.append({"method": request.method, "path": request.path, "args": list(request.args.items(multi=True)),
                         "form": request.form.to_dict(flat=False), "raw": raw,
                         "headers": {k: request.headers.get(k) for k in
                                     ("Authorization", "Stripe-Version", "Stripe-Account", "Idempotency-Key")}})
        if request.path.endswith("/balance_transactions"):
            return jsonify({"object": "list", "has_more": False, "data": [txn(1)]})
        return app.response_class('{"id": "in_1", "object": "invoice", "status": "paid", "amount_paid": 5000, '
                                  '"metadata": {"rate": "1"}, "total_excluding_tax": 5000}',
                                  content_type="application/json")

    return app


def test_the_requests_reach_the_wire_as_stripe_reads_them():
    with running(echo_app()) as server, httpx.Client() as client:
        send = HttpSender(client, api.auth({"api_key": KEY}))
        context_ = context("stripe", {"api_base": server.url, "stripe_account": "acct_9"}, key="run-7-step-note")
        drive(ADD_INVOICE_NOTE.perform({"invoice": "in_1", "note": "Paid & booked [ok]"}, context_), send)
        listed = drive(LIST_BALANCE_TRANSACTIONS.perform({"created": {"gte": 1}}, context_), send).value
    read, write, page = server.sandbox
    assert write["raw"] == "metadata%5Bledgerlink_note%5D=Paid+%26+booked+%5Bok%5D"
    assert write["form"] == {"metadata[ledgerlink_note]": ["Paid & booked [ok]"]}
    assert write["headers"] == {"Authorization": f"Bearer {KEY}", "Stripe-Version": api.DEFAULT_API_VERSION,
                                "Stripe-Account": "acct_9", "Idempotency-Key": "run-7-step-note"}
    assert read["headers"]["Idempotency-Key"] is None and read["method"] == "GET"
    assert page["args"] == [("created[gte]", "1"), ("limit", "100")]
    assert listed["data"][0]["amount"] == 1000 and isinstance(listed["data"][0]["amount"], int)
