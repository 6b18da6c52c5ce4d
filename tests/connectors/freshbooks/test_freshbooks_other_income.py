"""freshbooks.create_other_income: money without an invoice (its id is FreshBooks' incomeid),
the taxes it included, found again by the source id in its note, undone by DELETE."""

from __future__ import annotations

import pytest

from fb_answers import BASE, ctx, one, page
from fb_connector import context, objects, sandbox
from ledgerlink.errors import InputError
from ledgerlink.testing import drive
from ledgerlink_freshbooks.other_income import CREATE_OTHER_INCOME

INPUT = {"source_id": "ch_9", "amount": "1500", "currency_code": "JPY", "date": "2026-11-30",
         "taxes": [{"name": "Consumption tax", "amount": "136"}]}


def test_the_body_and_the_answer_without_an_id_field_but_its_incomeid():
    answer = {"incomeid": 1234, "amount": {"amount": "1500", "code": "JPY"}, "date": "2026-11-30",
              "note": "ledgerlink source ch_9", "vis_state": 0}
    driven = drive(CREATE_OTHER_INCOME.perform(INPUT, ctx()), [one("other_income", answer)])
    assert (driven.requests[0].method, driven.requests[0].url) == ("POST", f"{BASE}/other_incomes/other_incomes")
    assert driven.requests[0].json == {"other_income": {
        "amount": {"amount": "1500", "code": "JPY"}, "category_name": "online_sales", "date": "2026-11-30",
        "payment_type": "Credit Card", "source": "Stripe", "note": "ledgerlink source ch_9",
        "taxes": [{"name": "Consumption tax", "amount": "136"}]}}
    assert driven.value == {"id": "1234", "amount": "1500",
                            "link": {"source_id": "ch_9", "target_type": "freshbooks.create_other_income"}}
    found = drive(CREATE_OTHER_INCOME.find_existing(INPUT, ctx()), [page("other_income", [answer])])
    assert found.value["id"] == "1234"


def test_every_input_problem_is_named():
    with pytest.raises(InputError) as error:
        drive(CREATE_OTHER_INCOME.perform({**INPUT, "amount": "15.5", "category_name": "sales",
                                           "taxes": [{"name": "T", "amount": "1.5"}]}, ctx()), [])
    assert all(f"{p}:" in str(error.value) for p in ("/amount", "/category_name", "/taxes/0/amount"))


def test_against_the_sandbox_it_is_made_once_found_again_and_deleted():
    with sandbox() as (loop, _, send):
        data = {**INPUT, "currency_code": "USD", "amount": "25.00", "taxes": [{"name": "Tax", "amount": "2.04"}]}
        made = drive(CREATE_OTHER_INCOME.perform(data, context(loop)), send).value
        assert made["amount"] == "25.00"
        assert drive(CREATE_OTHER_INCOME.find_existing(data, context(loop)), send).value == made
        assert drive(CREATE_OTHER_INCOME.undo(made["id"], context(loop)), send).value["status"] == "deleted"
        assert drive(CREATE_OTHER_INCOME.undo(made["id"], context(loop)), send).value["status"] == "already gone"
        assert drive(CREATE_OTHER_INCOME.find_existing(data, context(loop)), send).value is None
        assert [i["vis_state"] for i in objects(loop, "other_incomes")] == [1]
