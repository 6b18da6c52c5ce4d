"""The Xero sandbox's ledger: every posted document moves account balances by double entry."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from test_xero_sandbox_api import api
from test_xero_sandbox_invoices import amounts, contact, invoice


@pytest.fixture
def xero():
    with running(create_sandbox(clock=lambda: 1000.0, wall_clock=lambda: 1_790_000_000.0)) as served:
        yield served


def balances(xero) -> dict[str, tuple[Decimal, Decimal]]:
    served = jsonio.loads(httpx.get(f"{xero.url}/__sandbox/balances/{DEFAULT_TENANT}").content)
    assert sum((row["BaseBalance"] for row in served.values()), Decimal("0")) == 0  # the trial balance balances
    return {code: (row["Balance"], row["BaseBalance"]) for code, row in served.items() if row["BaseBalance"]}


def test_an_invoice_its_payment_a_fee_a_journal_and_a_transfer_move_the_books(xero):
    acme = contact(xero)
    owed = invoice(xero, acme)  # 100.02 to Sales
    assert balances(xero) == {"610": (Decimal("100.02"), Decimal("100.02")), "200": (Decimal("-100.02"),) * 2}
    amounts(api(xero, "PUT", "Payments", {"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Account": {"Code": "090"},
                                          "Amount": 100.02}))
    amounts(api(xero, "PUT", "BankTransactions", {"Type": "SPEND", "Contact": {"Name": "Stripe"},
                                                  "BankAccount": {"Code": "090"}, "LineAmountTypes": "NoTax",
                                                  "LineItems": [{"Description": "fee", "UnitAmount": 2.90,
                                                                 "AccountCode": "404"}]}))
    amounts(api(xero, "PUT", "ManualJournals", {"Narration": "reclass", "Status": "POSTED", "JournalLines": [
        {"LineAmount": 10, "AccountCode": "200"}, {"LineAmount": -10, "AccountCode": "260"}]}))
    assert balances(xero) == {"090": (Decimal("97.12"),) * 2, "200": (Decimal("-90.02"),) * 2,
                              "260": (Decimal("-10.00"),) * 2, "404": (Decimal("2.90"),) * 2}
    draft = invoice(xero, acme, Status="DRAFT")
    assert draft["Status"] == "DRAFT" and "610" not in balances(xero)  # a draft posts nothing


def test_a_foreign_invoice_paid_at_another_rate_books_the_difference_as_realised_gain(xero):
    acme = contact(xero)
    owed = invoice(xero, acme, CurrencyCode="EUR", CurrencyRate=0.9,
                   LineItems=[{"Description": "Plan", "UnitAmount": 100, "AccountCode": "200", "TaxType": "NONE"}])
    amounts(api(xero, "PUT", "Payments", {"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Account": {"Code": "091"},
                                          "Amount": 100, "CurrencyRate": 0.8}))
    assert balances(xero) == {
        "091": (Decimal("100.00"), Decimal("125.00")),  # EUR 100 in the EUR bank, USD 125.00 at 0.8 EUR a USD
        "200": (Decimal("-111.11"),) * 2,  # booked at 0.9: 100 / 0.9
        "499": (Decimal("-13.89"),) * 2,  # a credit: the euro was worth more when paid
    }
    # between currencies at a rate of one's own: spend from the EUR bank, receive into the USD
    # bank, both through an account in transit, which is left at zero
    assert api(xero, "PUT", "Accounts", {"Code": "1010", "Name": "Funds in transit", "Type": "CURRENT"}).status_code == 200
    amounts(api(xero, "PUT", "BankTransactions", {"BankTransactions": [
        {"Type": "SPEND", "Contact": {"ContactID": acme}, "BankAccount": {"Code": "091"}, "CurrencyCode": "EUR",
         "CurrencyRate": 0.8, "LineAmountTypes": "NoTax",
         "LineItems": [{"Description": "to USD", "UnitAmount": 100, "AccountCode": "1010"}]},
        {"Type": "RECEIVE", "Contact": {"ContactID": acme}, "BankAccount": {"Code": "090"}, "CurrencyCode": "USD",
         "LineAmountTypes": "NoTax", "LineItems": [{"Description": "from EUR", "UnitAmount": 125, "AccountCode": "1010"}]},
    ]}))
    moved = balances(xero)
    assert moved["090"] == (Decimal("125.00"),) * 2 and "091" not in moved and "1010" not in moved
