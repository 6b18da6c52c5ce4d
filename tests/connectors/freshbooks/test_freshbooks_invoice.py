"""freshbooks.create_invoice and mark_invoice_sent, scripted: the body FreshBooks takes (money
with the currency's decimals, taxes by name and percent, the source id in po_number), every
input problem at once, the lookup of a lost answer, the undo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fb_answers import BASE, ctx, one, page
from ledgerlink.contract import Response
from ledgerlink.errors import InputError, VendorError
from ledgerlink.testing import drive
from ledgerlink_freshbooks.invoice import CREATE_INVOICE, MARK_INVOICE_SENT, SAMPLE

INPUT = {"source_id": "in_1", "customerid": "73625", "create_date": "2026-11-30", "currency_code": "USD",
         "lines": [{"name": "Pro plan", "description": "November", "qty": "2", "unit_cost": "49.50",
                    "taxes": [{"name": "Sales tax", "percent": "8.875"}, {"name": "City", "percent": "1"}]}]}


def invoice(invoice_id: int, source: str | None = "in_1", **fields) -> dict:
    return {"id": invoice_id, "invoiceid": invoice_id, "customerid": 73625, "create_date": "2026-11-30",
            "po_number": source, "currency_code": "USD", "amount": {"amount": "109.78", "code": "USD"},
            "invoice_number": "0000001", "status": 1, "v3_status": "draft", "vis_state": 0, **fields}


def test_the_body_is_freshbooks_envelope_with_money_strings_and_taxes_by_name_and_percent():
    driven = drive(CREATE_INVOICE.perform(INPUT, ctx()), [one("invoice", invoice(9))])
    (request,) = driven.requests
    assert (request.method, request.url) == ("POST", f"{BASE}/invoices/invoices")
    assert request.json == {"invoice": {
        "customerid": 73625, "create_date": "2026-11-30", "currency_code": "USD", "po_number": "in_1",
        "lines": [{"type": 0, "name": "Pro plan", "description": "November", "qty": "2",
                   "unit_cost": {"amount": "49.50", "code": "USD"},
                   "taxName1": "Sales tax", "taxAmount1": "8.875", "taxName2": "City", "taxAmount2": "1"}]}}
    assert driven.value == {"id": "9", "invoice_number": "0000001", "amount": "109.78", "currency_code": "USD",
                            "status": "draft", "link": {"source_id": "in_1", "target_type": "freshbooks.create_invoice"}}


@pytest.mark.parametrize("code, cost, sent", [("JPY", "1500", "1500"), ("KWD", "1.25", "1.25"), ("KWD", "1.250", "1.25"),
                                              ("EUR", "0.5", "0.50"), ("USD", "-5", "-5.00")])
def test_unit_costs_carry_the_currencys_decimals_at_most_the_two_freshbooks_keeps(code, cost, sent):
    data = {**INPUT, "currency_code": code, "lines": [{"name": "x", "unit_cost": cost}]}
    request = drive(CREATE_INVOICE.perform(data, ctx()), [one("invoice", invoice(9))]).requests[0]
    assert request.json["invoice"]["lines"][0]["unit_cost"] == {"amount": sent, "code": code}
    assert request.json["invoice"]["lines"][0]["qty"] == "1"


def test_a_dinar_amount_freshbooks_would_round_is_refused_before_a_request():
    data = {**INPUT, "currency_code": "KWD", "lines": [{"name": "x", "unit_cost": "1.255"}]}
    with pytest.raises(InputError) as error:
        drive(CREATE_INVOICE.perform(data, ctx()), [])
    assert "/lines/0/unit_cost: unit_cost 1.255 KWD has a third decimal" in str(error.value)
    assert "FreshBooks keeps amounts to two decimal places" in str(error.value)


def test_every_input_problem_is_named_before_a_request():
    bad = {"source_id": "in_1", "customerid": "x", "create_date": "2026-13-01", "currency_code": "JPY",
           "lines": [{"name": "a", "unit_cost": "10.5", "taxes": [{"name": "T", "percent": "101"}]},
                     {"unit_cost": 1.5}]}
    with pytest.raises(InputError) as error:
        drive(CREATE_INVOICE.perform(bad, ctx()), [])
    message = str(error.value)
    for pointer in ("/customerid", "/create_date", "/lines/0/unit_cost", "/lines/0/taxes/0/percent", "/lines/1"):
        assert f"{pointer}:" in message, pointer
    assert "more decimals than JPY has (0)" in message


def test_a_lost_answer_is_found_among_the_clients_invoices_by_po_number_and_date():
    found = drive(CREATE_INVOICE.find_existing(INPUT, ctx()),
                  [page("invoices", [invoice(7, "in_10"), invoice(8, "in_1", create_date="2026-11-29"),
                                     invoice(9)])])
    assert found.value["id"] == "9"
    (request,) = found.requests
    assert request.method == "GET" and request.params["search[customerid]"] == "73625"
    none = drive(CREATE_INVOICE.find_existing(INPUT, ctx()), [page("invoices", [invoice(7, "in_10")])])
    assert none.value is None


def test_an_answer_without_the_invoice_is_an_unknown_outcome_to_look_up():
    with pytest.raises(VendorError) as error:
        drive(CREATE_INVOICE.perform(INPUT, ctx()), [Response(status=200, text="<html>gateway</html>")])
    assert error.value.kind == "unknown"
    assert CREATE_INVOICE.idempotency == "lookup" and CREATE_INVOICE.find_existing is not None


def test_undo_deletes_and_a_deleted_invoice_is_already_gone():
    done = drive(CREATE_INVOICE.undo("9", ctx()), [one("invoice", invoice(9)), {"response": {"result": {}}}])
    assert done.value == {"id": "9", "status": "deleted"}
    assert (done.requests[1].method, done.requests[1].url) == ("DELETE", f"{BASE}/invoices/invoices/9")
    again = drive(CREATE_INVOICE.undo("9", ctx()), [one("invoice", invoice(9, vis_state=1))])
    assert again.value == {"id": "9", "status": "already gone"} and len(again.requests) == 1


def test_a_draft_is_marked_sent_and_anything_else_is_left():
    sent = drive(MARK_INVOICE_SENT.perform({"invoiceid": 9}, ctx()),
                 [one("invoice", invoice(9)), one("invoice", invoice(9, status=2, v3_status="sent"))])
    assert sent.value == {"id": "9", "status": "sent", "changed": True}
    assert sent.requests[1].json == {"invoice": {"action_mark_as_sent": True}}
    left = drive(MARK_INVOICE_SENT.perform({"invoiceid": "9"}, ctx()),
                 [one("invoice", invoice(9, status=4, v3_status="paid"))])
    assert left.value == {"id": "9", "status": "paid", "changed": False} and len(left.requests) == 1
    with pytest.raises(VendorError, match="no invoice 9"):
        drive(MARK_INVOICE_SENT.perform({"invoiceid": "9"}, ctx()), [Response(status=404, json={})])


def test_ledgerlink_export_reads_each_freshbooks_booking_date_amount_and_currency():
    """What ``ledgerlink export`` lists of a FreshBooks booking: the registered create actions
    carry an entry that reads the document's date, FreshBooks' amount and the currency."""
    from ledgerlink.connectors.manager import load_catalog

    actions = load_catalog().actions
    invoice = actions["freshbooks.create_invoice"]
    entry = invoice.entry(SAMPLE, {"id": "987654", "amount": "1234.56", "currency_code": "USD"})
    assert (entry.date, entry.amount, entry.currency) == (SAMPLE["create_date"], Decimal("1234.56"), "USD")
    payment = actions["freshbooks.create_payment"]
    entry = payment.entry({"date": "2026-11-30", "amount": "10.00", "currency_code": "kwd"}, {"amount": "10.000"})
    assert (entry.date, entry.amount, entry.currency) == ("2026-11-30", Decimal("10.000"), "KWD")
    assert all(action.entry is not None for name, action in actions.items() if name.startswith("freshbooks.create_"))
