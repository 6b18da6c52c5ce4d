"""freshbooks.create_payment: against the invoice linked to the source invoice (or by id), the
source id in the note, a lost answer found among the invoice's payments; against the sandbox,
the invoice paid and reopened by the undo."""

from __future__ import annotations

import pytest

from fb_answers import BASE, ctx, one, page
from fb_connector import context, objects, sandbox
from ledgerlink.errors import InputError
from ledgerlink.testing import LinkTable, drive
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT
from ledgerlink_freshbooks.invoice import CREATE_INVOICE
from ledgerlink_freshbooks.payment import CREATE_PAYMENT

INPUT = {"source_id": "ch_1", "invoice_source_id": "in_1", "amount": "1.5", "currency_code": "KWD",
         "date": "2026-11-30", "type": "Credit Card"}
LINKED = LinkTable({("in_1", "freshbooks.create_invoice"): "9"})


def payment(payment_id: int, note: str = "ledgerlink source ch_1", **fields) -> dict:
    return {"id": payment_id, "invoiceid": 9, "amount": {"amount": "1.500", "code": "KWD"}, "date": "2026-11-30",
            "type": "Credit Card", "note": note, "vis_state": 0, **fields}


def test_the_linked_invoice_is_paid_with_the_source_id_in_the_note():
    driven = drive(CREATE_PAYMENT.perform(INPUT, ctx()), [one("payment", payment(5))], LINKED)
    (request,) = driven.requests
    assert (request.method, request.url) == ("POST", f"{BASE}/payments/payments")
    assert request.json == {"payment": {"invoiceid": 9, "amount": {"amount": "1.50", "code": "KWD"},
                                        "date": "2026-11-30", "type": "Credit Card",
                                        "note": "ledgerlink source ch_1"}}
    assert driven.value == {"id": "5", "invoiceid": "9", "amount": "1.500",
                            "link": {"source_id": "ch_1", "target_type": "freshbooks.create_payment"}}


def test_an_unlinked_invoice_or_a_bad_input_is_refused_before_a_request():
    with pytest.raises(InputError, match="no FreshBooks invoice is linked to 'in_1'"):
        drive(CREATE_PAYMENT.perform(INPUT, ctx()), [])
    with pytest.raises(InputError) as error:
        drive(CREATE_PAYMENT.perform({**INPUT, "amount": "1.2345", "type": "Card", "date": "30/11/2026"}, ctx()),
              [], LINKED)
    assert all(f"{p}:" in str(error.value) for p in ("/amount", "/type", "/date"))


def test_a_lost_answer_is_found_among_the_invoices_payments_by_its_note():
    found = drive(CREATE_PAYMENT.find_existing(INPUT, ctx()),
                  [page("payments", [payment(4, "ledgerlink source ch_10"), payment(5, "paid\nledgerlink source ch_1")])],
                  LINKED)
    assert found.value["id"] == "5" and found.requests[0].params["search[invoiceid]"] == "9"


def test_against_the_sandbox_the_invoice_is_paid_once_and_reopened_by_the_undo():
    with sandbox() as (loop, _, send):
        links = LinkTable()
        client = drive(FIND_OR_CREATE_CLIENT.perform({"source_id": "cus_p", "organization": "P"}, context(loop)),
                       send).value["id"]
        invoice = drive(CREATE_INVOICE.perform({"source_id": "in_p", "customerid": client, "create_date": "2026-11-30",
                                                "currency_code": "USD",
                                                "lines": [{"name": "Plan", "unit_cost": "80.00"}]}, context(loop)),
                        send).value
        links.record(invoice)
        data = {"source_id": "ch_p", "invoice_source_id": "in_p", "amount": "80.00", "currency_code": "USD",
                "date": "2026-11-30"}
        paid = drive(CREATE_PAYMENT.perform(data, context(loop)), send, links).value
        assert paid["invoiceid"] == invoice["id"] and paid["amount"] == "80.00"
        (stored,) = [i for i in objects(loop, "invoices") if str(i["id"]) == invoice["id"]]
        assert (stored["v3_status"], stored["outstanding"]["amount"]) == ("paid", "0.00")
        assert drive(CREATE_PAYMENT.find_existing(data, context(loop)), send, links).value == paid
        assert drive(CREATE_PAYMENT.undo(paid["id"], context(loop)), send).value["status"] == "deleted"
        assert stored["outstanding"]["amount"] == "80.00" and stored["v3_status"] != "paid"
        assert drive(CREATE_PAYMENT.find_existing(data, context(loop)), send, links).value is None
