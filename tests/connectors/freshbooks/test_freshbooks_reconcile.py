"""The FreshBooks side of ``ledgerlink reconcile`` against the FreshBooks sandbox over loopback
HTTP: a period's invoices, payments, credit notes, expenses and other incomes listed page by
page (100 a page, narrowed by ``search[updated_min]``, kept by their own date) as neutral
records — what posts only (no draft, nothing deleted), each of the kind it books, its amount
in minor units and the source id its create kept. Every request is held to FreshBooks'
description before it leaves."""

from __future__ import annotations

import pytest

import ledgerlink_freshbooks.reconcile as reconcile
from fb_connector import context, sandbox
from ledgerlink.contract.reconcile import check_record
from ledgerlink.errors import ConfigError
from ledgerlink.testing import drive
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT
from ledgerlink_freshbooks.credit_note import CREATE_CREDIT_NOTE
from ledgerlink_freshbooks.expense import CREATE_EXPENSE
from ledgerlink_freshbooks.invoice import CREATE_INVOICE
from ledgerlink_freshbooks.other_income import CREATE_OTHER_INCOME
from ledgerlink_freshbooks.payment import CREATE_PAYMENT


def listed(loop, send, since, until):
    """Every record of the period, page after page, and how many requests it took."""
    found, cursor, asked = [], None, 0
    while True:
        driven = drive(reconcile.records(since, until, cursor, context(loop)), send)
        asked += len(driven.requests)
        for record in driven.value.records:
            check_record(record, "freshbooks")
        found += driven.value.records
        cursor = driven.value.cursor
        if cursor is None:
            return found, asked


def test_a_periods_documents_are_listed_as_what_they_book():
    with sandbox() as (loop, _, send):
        def book(action, data):
            return drive(action.perform(data, context(loop)), send).value

        client = book(FIND_OR_CREATE_CLIENT, {"source_id": "cus_R1", "organization": "Ridgeway",
                                              "currency_code": "USD"})["id"]
        lines = [{"name": "Plan", "unit_cost": "100.00"}]
        invoice = book(CREATE_INVOICE, {"source_id": "in_R1", "customerid": client, "create_date": "2026-11-02",
                                        "currency_code": "USD", "lines": lines})
        payment = book(CREATE_PAYMENT, {"source_id": "txn_R1", "invoiceid": invoice["id"], "amount": "100.00",
                                        "currency_code": "USD", "date": "2026-11-03", "type": "Credit Card"})
        note = book(CREATE_CREDIT_NOTE, {"source_id": "txn_R2", "clientid": client, "create_date": "2026-11-04",
                                         "currency_code": "USD", "lines": [{"name": "Refund", "unit_cost": "10.00"}]})
        fees = book(CREATE_EXPENSE, {"source_id": "fees:po_R1", "amount": "3.20", "currency_code": "USD",
                                     "date": "2026-11-05", "category": "Merchant Fees"})
        sale = book(CREATE_OTHER_INCOME, {"source_id": "txn_R3", "amount": "25.00", "currency_code": "USD",
                                          "date": "2026-11-06", "category_name": "online_sales"})
        payout = book(CREATE_OTHER_INCOME, {"source_id": "po_R2", "amount": "1500", "currency_code": "JPY",
                                            "date": "2026-11-30", "category_name": "online_sales"})
        # outside the period, and deleted: neither is in the period's books
        book(CREATE_OTHER_INCOME, {"source_id": "txn_R9", "amount": "1.00", "currency_code": "USD",
                                   "date": "2026-12-01", "category_name": "online_sales"})
        gone = book(CREATE_EXPENSE, {"source_id": "fees:po_R8", "amount": "2.00", "currency_code": "USD",
                                     "date": "2026-11-07", "category": "Merchant Fees"})
        drive(CREATE_EXPENSE.undo(gone["id"], context(loop)), send)

        found, asked = listed(loop, send, "2026-11-01", "2026-11-30")
        assert asked == len(reconcile.LISTS)  # one page each
        got = sorted((r.kind, r.entity, r.id, r.amount, r.currency, r.date, r.source_id) for r in found)
        assert got == sorted([
            ("invoice", "invoice", invoice["id"], 10000, "USD", "2026-11-02", "in_R1"),
            ("payment", "payment", payment["id"], 10000, "USD", "2026-11-03", "txn_R1"),
            ("credit_note", "credit_note", note["id"], 1000, "USD", "2026-11-04", "txn_R2"),
            ("fee", "expense", fees["id"], 320, "USD", "2026-11-05", "fees:po_R1"),
            ("payment", "other_income", sale["id"], 2500, "USD", "2026-11-06", "txn_R3"),
            ("payout", "other_income", payout["id"], 1500, "JPY", "2026-11-30", "po_R2")])
        day, _ = listed(loop, send, "2026-11-03", "2026-11-03")
        assert [r.id for r in day] == [payment["id"]]


def test_pages_of_a_hundred_are_followed_and_a_bad_date_is_refused():
    with sandbox(rate_limit=False) as (loop, _, send):
        for n in range(101):
            drive(CREATE_OTHER_INCOME.perform({"source_id": f"txn_P{n}", "amount": "1.00", "currency_code": "USD",
                                               "date": "2026-11-10", "category_name": "online_sales"},
                                              context(loop)), send)
        found, asked = listed(loop, send, "2026-11-01", "2026-11-30")
        assert len({r.id for r in found}) == len(found) == 101
        assert asked == len(reconcile.LISTS) + 1  # the other incomes' second page
        with pytest.raises(ConfigError, match="YYYY-MM-DD"):
            listed(loop, send, "Nov 1", "2026-11-30")
