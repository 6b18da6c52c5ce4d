"""The Xero side of ``ledgerlink reconcile`` against the Xero sandbox over loopback HTTP: a
period's documents listed page by page through ``where=Date…DateTime(…)`` as neutral
records (what posts only, each of the kind it books, its amount in minor units and the source
id its Reference keeps), and the clearing account's balance at a date from the trial balance.
Every request is held to Xero's strict spec before it leaves."""

from __future__ import annotations

import httpx
import pytest

import ledgerlink_xero.reconcile as reconcile
from ledgerlink.contract import Request
from ledgerlink.contract.reconcile import check_record
from ledgerlink.errors import ConfigError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from ledgerlink_xero.bank import CREATE_BANK_TRANSACTION, CREATE_BANK_TRANSFER
from ledgerlink_xero.contacts import FIND_OR_CREATE_CONTACT
from ledgerlink_xero.invoice import ACTION as CREATE_INVOICE
from ledgerlink_xero.invoice import CREATE_CREDIT_NOTE
from ledgerlink_xero.manual_journal import ACTION as CREATE_MANUAL_JOURNAL
from ledgerlink_xero.oauth import auth_headers
from ledgerlink_xero.payment import ACTION as CREATE_PAYMENT
from xero_openapi_requests import problems


def checked(request):
    found = problems(request)
    assert found == [], found


@pytest.fixture
def xero():
    app = create_sandbox(clock=lambda: 1000.0, wall_clock=lambda: 1_790_000_000.0, rate_limit=False)
    with running(app) as served, httpx.Client(timeout=10.0) as client:
        settings = {"api_base": f"{served.url}/api.xro/2.0", "tenant_id": DEFAULT_TENANT, "base_currency": "USD",
                    "clearing_account": "090"}
        sender = HttpSender(client, auth_headers({"access_token": DEFAULT_ACCESS_TOKEN, "tenant_id": DEFAULT_TENANT}),
                            check=checked)
        answer = sender(Request("PUT", f"{settings['api_base']}/Accounts", json={
            "Code": "099", "Name": "Stripe USD", "Type": "BANK", "BankAccountNumber": "4000099", "CurrencyCode": "USD"}))
        assert answer.status == 200, answer.text
        yield settings, sender


def listed(settings, send, since, until):
    """Every record of the period, page after page, and how many requests it took."""
    found, cursor, asked = [], None, 0
    while True:
        driven = drive(reconcile.records(since, until, cursor, context("xero", settings, key="")), send)
        asked += len(driven.requests)
        for record in driven.value.records:
            check_record(record, "xero")
        found += driven.value.records
        cursor = driven.value.cursor
        if cursor is None:
            return found, asked


def book(settings, send, action, data, key):
    return drive(action.perform(data, context("xero", settings, key=key)), send).value


def test_a_periods_documents_are_listed_as_what_they_book(xero):
    settings, send = xero
    customer = book(settings, send, FIND_OR_CREATE_CONTACT, {"source_id": "cus_R1", "Name": "Ridgeway"}, "c1")
    stripe = book(settings, send, FIND_OR_CREATE_CONTACT, {"source_id": "stripe", "Name": "Stripe"}, "c2")
    line = {"Description": "Plan", "UnitAmount": "100.00", "AccountCode": "200"}
    invoice = book(settings, send, CREATE_INVOICE, {"ContactID": customer["id"], "Date": "2026-11-02",
                                                    "Reference": "in_R1", "CurrencyCode": "USD",
                                                    "LineAmountTypes": "NoTax", "LineItems": [line]}, "i1")
    payment = book(settings, send, CREATE_PAYMENT, {"InvoiceID": invoice["id"], "AccountCode": "090",
                                                    "Date": "2026-11-03", "Amount": "100.00", "CurrencyCode": "USD",
                                                    "Reference": "txn_R1"}, "p1")
    note = book(settings, send, CREATE_CREDIT_NOTE, {"ContactID": customer["id"], "Date": "2026-11-04",
                                                     "Reference": "cn_R1", "CurrencyCode": "EUR", "exchange_rate": "1.10",
                                                     "LineAmountTypes": "NoTax", "LineItems": [
                                                         {"Description": "Refund", "UnitAmount": "12.34",
                                                          "AccountCode": "200"}]}, "n1")
    spent = {"Type": "SPEND", "BankAccountCode": "090", "CurrencyCode": "USD", "LineAmountTypes": "NoTax"}
    fee = book(settings, send, CREATE_BANK_TRANSACTION, {**spent, "ContactID": stripe["id"], "Date": "2026-11-03",
                                                         "Reference": "txn_R1", "LineItems": [
                                                             {"Description": "Stripe fee", "UnitAmount": "3.20",
                                                              "AccountCode": "404"}]}, "f1")
    refund = book(settings, send, CREATE_BANK_TRANSACTION, {**spent, "ContactID": customer["id"], "Date": "2026-11-04",
                                                            "Reference": "txn_R2", "LineItems": [
                                                                {"Description": "Refund", "UnitAmount": "10.00",
                                                                 "AccountCode": "200"}]}, "r1")
    transfer = book(settings, send, CREATE_BANK_TRANSFER, {"FromBankAccountCode": "090", "ToBankAccountCode": "099",
                                                           "Amount": "40.00", "Date": "2026-11-05",
                                                           "Reference": "po_R1", "CurrencyCode": "USD"}, "t1")
    journal = book(settings, send, CREATE_MANUAL_JOURNAL, {"Narration": "Stripe payout po_R2 (3 balance transactions)",
                                                           "Date": "2026-11-30", "JournalLines": [
                                                               {"AccountCode": "610", "Debit": "96.80"},
                                                               {"AccountCode": "404", "Debit": "3.20"},
                                                               {"AccountCode": "260", "Credit": "100.00"}]}, "j1")
    # outside the period, and deleted: neither is in the period's books
    book(settings, send, CREATE_BANK_TRANSACTION, {**spent, "ContactID": stripe["id"], "Date": "2026-12-01",
                                                   "Reference": "txn_R9", "LineItems": [
                                                       {"Description": "Stripe fee", "UnitAmount": "1.00",
                                                        "AccountCode": "404"}]}, "f9")
    gone = book(settings, send, CREATE_BANK_TRANSACTION, {**spent, "ContactID": stripe["id"], "Date": "2026-11-06",
                                                          "Reference": "txn_R8", "LineItems": [
                                                              {"Description": "Stripe fee", "UnitAmount": "2.00",
                                                               "AccountCode": "404"}]}, "f8")
    drive(CREATE_BANK_TRANSACTION.undo(gone["id"], context("xero", settings, key="u8")), send)

    found, asked = listed(settings, send, "2026-11-01", "2026-11-30")
    assert asked == len(reconcile.COLLECTIONS)  # one page each: the filter did the narrowing
    got = sorted((r.kind, r.entity, r.id, r.amount, r.currency, r.date, r.source_id) for r in found)
    assert got == sorted([
        ("invoice", "Invoice", invoice["id"], 10000, "USD", "2026-11-02", "in_R1"),
        ("payment", "Payment", payment["id"], 10000, "USD", "2026-11-03", "txn_R1"),
        ("credit_note", "CreditNote", note["id"], 1234, "EUR", "2026-11-04", "cn_R1"),
        ("fee", "BankTransaction", fee["id"], 320, "USD", "2026-11-03", "txn_R1"),
        ("refund", "BankTransaction", refund["id"], 1000, "USD", "2026-11-04", "txn_R2"),
        ("payout", "BankTransfer", transfer["id"], 4000, "USD", "2026-11-05", "po_R1"),
        ("journal", "ManualJournal", journal["id"], 10000, "USD", "2026-11-30", "po_R2")])
    # a single day: only what is dated on it
    day, _ = listed(settings, send, "2026-11-03", "2026-11-03")
    assert sorted(r.id for r in day) == sorted([payment["id"], fee["id"]])
    # the clearing account at each day's end: +100 paid in, −3.20 fee, −10 refund, −40 transferred
    balance = lambda at: drive(reconcile.balance(at, context("xero", settings, key="")), send).value  # noqa: E731
    assert [balance(at) for at in ("2026-11-01", "2026-11-03", "2026-11-05")] == [
        {"USD": 0}, {"USD": 9680}, {"USD": 4680}]


def test_pages_of_a_hundred_are_followed_and_refusals_are_named(xero):
    settings, send = xero
    stripe = book(settings, send, FIND_OR_CREATE_CONTACT, {"source_id": "stripe", "Name": "Stripe"}, "c")
    for n in range(101):
        book(settings, send, CREATE_BANK_TRANSACTION, {"Type": "RECEIVE", "BankAccountCode": "090",
                                                       "CurrencyCode": "USD", "ContactID": stripe["id"],
                                                       "Date": "2026-11-10", "Reference": f"txn_P{n}",
                                                       "LineItems": [{"Description": "Sale", "UnitAmount": "1.00",
                                                                      "AccountCode": "200"}]}, f"s{n}")
    found, asked = listed(settings, send, "2026-11-01", "2026-11-30")
    assert len(found) == 101 and len({r.id for r in found}) == 101 and {r.kind for r in found} == {"payment"}
    assert asked == len(reconcile.COLLECTIONS) + 1  # the bank transactions' second page
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        listed(settings, send, "1 Nov 2026", "2026-11-30")
    with pytest.raises(ConfigError, match="clearing_account"):
        drive(reconcile.balance("2026-11-30", context("xero", {**settings, "clearing_account": ""}, key="")), send)
