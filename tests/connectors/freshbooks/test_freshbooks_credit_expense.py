"""freshbooks.create_credit_note and freshbooks.create_expense: their bodies, their lookups of
a lost answer by the source id in their notes, and against the sandbox: made once, found
again, undone."""

from __future__ import annotations

import pytest

from fb_answers import BASE, ctx, one, page
from fb_connector import context, objects, sandbox
from ledgerlink.errors import InputError
from ledgerlink.testing import drive
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT
from ledgerlink_freshbooks.credit_note import CREATE_CREDIT_NOTE
from ledgerlink_freshbooks.expense import CREATE_EXPENSE

NOTE = {"source_id": "cn_1", "clientid": 73625, "create_date": "2026-11-30", "currency_code": "EUR",
        "notes": "Refund", "lines": [{"name": "Refund", "unit_cost": "49.5", "taxes": [{"name": "VAT", "percent": "20"}]}]}
FEES = {"source_id": "po_1", "amount": "12.3", "currency_code": "USD", "date": "2026-11-30", "categoryid": 5001}


def test_a_credit_note_is_the_clients_credit_with_the_source_id_in_its_notes():
    answer = {"id": 44, "clientid": 73625, "create_date": "2026-11-30", "credit_number": "CN00001",
              "currency_code": "EUR", "amount": {"amount": "59.40", "code": "EUR"}, "notes": "Refund\nledgerlink source cn_1"}
    driven = drive(CREATE_CREDIT_NOTE.perform(NOTE, ctx()), [one("credit_note", answer)])
    (request,) = driven.requests
    assert (request.method, request.url) == ("POST", f"{BASE}/credit_notes/credit_notes")
    assert request.json == {"credit_note": {
        "clientid": 73625, "create_date": "2026-11-30", "currency_code": "EUR", "notes": "Refund\nledgerlink source cn_1",
        "lines": [{"type": 0, "name": "Refund", "qty": "1", "unit_cost": {"amount": "49.50", "code": "EUR"},
                   "taxName1": "VAT", "taxAmount1": "20"}]}}
    assert driven.value["amount"] == "59.40" and driven.value["link"]["target_type"] == "freshbooks.create_credit_note"
    found = drive(CREATE_CREDIT_NOTE.find_existing(NOTE, ctx()),
                  [page("credit_notes", [{**answer, "id": 43, "notes": "ledgerlink source cn_10"}, answer])])
    assert found.value["id"] == "44" and found.requests[0].params["search[clientid]"] == "73625"


def test_fees_are_one_expense_by_the_owner_from_stripe_with_the_payout_in_its_notes():
    answer = {"id": 7, "categoryid": 5001, "date": "2026-11-30", "amount": {"amount": "12.30", "code": "USD"},
              "notes": "ledgerlink source po_1", "vis_state": 0}
    driven = drive(CREATE_EXPENSE.perform(FEES, ctx()), [one("expense", answer)])
    assert driven.requests[0].json == {"expense": {"categoryid": 5001, "staffid": 1, "date": "2026-11-30",
                                                   "amount": {"amount": "12.30", "code": "USD"}, "vendor": "Stripe",
                                                   "notes": "ledgerlink source po_1"}}
    found = drive(CREATE_EXPENSE.find_existing(FEES, ctx()), [page("expenses", [answer])])
    assert found.value["id"] == "7"
    assert (found.requests[0].params["search[date_min]"], found.requests[0].params["search[date_max]"]) == (
        "2026-11-30", "2026-11-30")


def test_a_category_is_named_or_the_names_the_business_has_are_listed():
    categories = page("categories", [{"categoryid": 5001, "id": 5001, "category": "Bank Fees"},
                                     {"categoryid": 5002, "id": 5002, "category": "Merchant Fees"}])
    data = {**{k: v for k, v in FEES.items() if k != "categoryid"}, "category": "merchant fees"}
    driven = drive(CREATE_EXPENSE.perform(data, ctx()), [categories, one("expense", {"id": 8, "categoryid": 5002})])
    assert driven.requests[1].json["expense"]["categoryid"] == 5002
    with pytest.raises(InputError, match="no expense categories named 'Fees'; it has Bank Fees, Merchant Fees"):
        drive(CREATE_EXPENSE.perform({**data, "category": "Fees"}, ctx()), [categories])


def test_against_the_sandbox_each_is_made_once_found_again_and_undone():
    with sandbox() as (loop, _, send):
        client = drive(FIND_OR_CREATE_CLIENT.perform({"source_id": "cus_c", "organization": "C", "currency_code": "EUR"},
                                                     context(loop)), send).value["id"]
        note = {**NOTE, "clientid": client}
        made = drive(CREATE_CREDIT_NOTE.perform(note, context(loop)), send).value
        assert made["amount"] == "59.40" and made["currency_code"] == "EUR"
        assert drive(CREATE_CREDIT_NOTE.find_existing(note, context(loop)), send).value == made
        fees = {**{k: v for k, v in FEES.items() if k != "categoryid"}, "category": "Bank Fees"}
        booked = drive(CREATE_EXPENSE.perform(fees, context(loop)), send).value
        assert booked["amount"] == "12.30"
        assert drive(CREATE_EXPENSE.find_existing(fees, context(loop)), send).value == booked
        assert len([e for e in objects(loop, "expenses") if "po_1" in str(e.get("notes"))]) == 1
        for action, output in ((CREATE_CREDIT_NOTE, made), (CREATE_EXPENSE, booked)):
            assert drive(action.undo(output["id"], context(loop)), send).value["status"] == "deleted"
        assert drive(CREATE_CREDIT_NOTE.find_existing(note, context(loop)), send).value is None
        assert drive(CREATE_EXPENSE.find_existing(fees, context(loop)), send).value is None
