"""The Xero sandbox's invoices and payments over loopback HTTP, and Xero's own Python SDK
(xero-python's AccountingApi) pointed at it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from xero_python.accounting import (Account, AccountingApi, Contact, Contacts, Invoice, Invoices, LineItem,
                                    Payment)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token

from ledgerlink import jsonio
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from test_xero_sandbox_api import api


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def xero(now):
    with running(create_sandbox(clock=lambda: now[0], wall_clock=lambda: 1_790_000_000.0 + now[0])) as served:
        yield served


def amounts(response) -> dict:
    """The answer's body with amounts exact (Decimal)."""
    assert response.status_code == 200, response.text
    return jsonio.loads(response.content)


def contact(xero) -> str:
    return amounts(api(xero, "PUT", "Contacts", {"Contacts": [{"Name": "Acme", "ContactNumber": "cus_1"}]}))[
        "Contacts"][0]["ContactID"]


INVOICE = {"Type": "ACCREC", "Date": "2026-11-02", "Status": "AUTHORISED",
           "LineItems": [{"Description": "Plan", "Quantity": 3, "UnitAmount": 33.335, "AccountCode": "200",
                          "TaxType": "NONE"}]}


def invoice(xero, contact_id: str, **fields) -> dict:
    body = {**INVOICE, "Contact": {"ContactID": contact_id}, **fields}
    return amounts(api(xero, "PUT", "Invoices", {"Invoices": [body]}, summarizeErrors="false"))["Invoices"][0]


def test_line_amounts_tax_and_totals_are_computed_as_xero_does(xero):
    acme = contact(xero)
    plain = invoice(xero, acme)
    assert plain["StatusAttributeString"] == "OK", plain
    assert plain["LineItems"][0]["UnitAmount"] == Decimal("33.34")  # 2 decimals without unitdp=4
    assert plain["LineItems"][0]["LineAmount"] == Decimal("100.02")  # 3 × 33.34
    assert (plain["SubTotal"], plain["TotalTax"], plain["Total"], plain["AmountDue"]) == (
        Decimal("100.02"), Decimal("0.00"), Decimal("100.02"), Decimal("100.02"))
    four = amounts(api(xero, "PUT", "Invoices", {"Invoices": [{**INVOICE, "Contact": {"ContactID": acme}}]},
                       unitdp="4"))["Invoices"][0]
    assert (four["LineItems"][0]["UnitAmount"], four["Total"]) == (Decimal("33.335"), Decimal("100.01"))  # 100.005 half up
    assert plain["InvoiceNumber"] == "INV-0001" and plain["Date"].startswith("/Date(")
    lines = [{"Description": "Plan", "Quantity": 1, "UnitAmount": 108.50, "AccountCode": "200", "TaxType": "OUTPUT"}]
    inclusive = invoice(xero, acme, LineAmountTypes="Inclusive", LineItems=lines)
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (
        Decimal("100.00"), Decimal("8.50"), Decimal("108.50"))
    exclusive = invoice(xero, acme, LineAmountTypes="Exclusive", LineItems=[{**lines[0], "DiscountRate": 10}])
    assert (exclusive["SubTotal"], exclusive["TotalTax"], exclusive["Total"]) == (
        Decimal("97.65"), Decimal("8.30"), Decimal("105.95"))  # 108.50 less 10 %, tax 8.5 % of it
    by_item = invoice(xero, acme, LineItems=[{"ItemCode": "SUB-BASIC", "Quantity": 2}])
    assert by_item["LineItems"][0]["AccountCode"] == "200" and by_item["Total"] == Decimal("20.00")


def test_what_xero_refuses_is_refused_with_its_messages(xero):
    acme = contact(xero)
    xero.sandbox.orgs[DEFAULT_TENANT].set_lock_dates("2026-10-31", None)
    refused = api(xero, "PUT", "Invoices", {"Invoices": [
        {"Type": "ACCREC", "Contact": {"ContactID": acme}, "CurrencyCode": "GBP", "Date": "2026-10-15",
         "LineItems": [{"Description": "x", "UnitAmount": 1, "AccountCode": "999"}]}]})
    assert refused.status_code == 400
    messages = [e["Message"] for e in refused.json()["Elements"][0]["ValidationErrors"]]
    assert messages == ["Organisation is not subscribed to currency GBP",
                        "The document date cannot be before the period lock date, currently set at 31-Oct-2026",
                        "Account code '999' is not a valid code for this document."]
    invoice(xero, acme, InvoiceNumber="INV-9")
    again = api(xero, "PUT", "Invoices", {"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": acme},
                                                        "InvoiceNumber": "INV-9", "LineItems": []}]})
    assert again.json()["Elements"][0]["ValidationErrors"] == [{"Message": "Invoice # must be unique."}]


def test_a_payment_into_a_bank_account_pays_the_invoice_and_a_foreign_one_keeps_its_rate(xero):
    acme = contact(xero)
    usd = invoice(xero, acme)
    part = api(xero, "PUT", "Payments", {"Payments": [{"Invoice": {"InvoiceID": usd["InvoiceID"]},
                                                       "Account": {"Code": "090"}, "Date": "2026-11-05",
                                                       "Amount": 40.01}]})
    assert amounts(part)["Payments"][0]["Amount"] == Decimal("40.01")
    read = amounts(api(xero, "GET", f"Invoices/{usd['InvoiceID']}"))["Invoices"][0]
    assert (read["Status"], read["AmountPaid"], read["AmountDue"]) == ("AUTHORISED", Decimal("40.01"), Decimal("60.01"))
    too_much = api(xero, "PUT", "Payments", {"Invoice": {"InvoiceID": usd["InvoiceID"]}, "Account": {"Code": "090"},
                                             "Amount": 60.02})
    assert too_much.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "Payment amount exceeds the amount outstanding on this document"}]
    not_bank = api(xero, "PUT", "Payments", {"Invoice": {"InvoiceID": usd["InvoiceID"]}, "Account": {"Code": "200"},
                                             "Amount": 1})
    assert not_bank.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "Account type is invalid for making a payment to/from"}]
    rest = api(xero, "PUT", "Payments", {"Invoice": {"InvoiceNumber": "INV-0001"}, "Account": {"Code": "090"},
                                         "Amount": 60.01})
    assert rest.status_code == 200
    paid = amounts(api(xero, "GET", "Invoices", where='Status=="PAID"'))["Invoices"]
    assert [(i["InvoiceNumber"], i["AmountDue"]) for i in paid] == [("INV-0001", Decimal("0.00"))]
    eur = invoice(xero, acme, CurrencyCode="EUR", CurrencyRate=1.0825)
    assert (eur["CurrencyCode"], eur["CurrencyRate"]) == ("EUR", Decimal("1.0825"))
    payment = amounts(api(xero, "PUT", "Payments", {"Invoice": {"InvoiceID": eur["InvoiceID"]},
                                                    "Account": {"Code": "091"}, "Amount": 100.01,
                                                    "CurrencyRate": 1.0901}))["Payments"][0]
    assert payment["CurrencyRate"] == Decimal("1.0901") and payment["Invoice"]["CurrencyCode"] == "EUR"
    deleted = api(xero, "POST", f"Payments/{payment['PaymentID']}", {"Status": "DELETED"})
    assert amounts(deleted)["Payments"][0]["Status"] == "DELETED"
    assert amounts(api(xero, "GET", f"Invoices/{eur['InvoiceID']}"))["Invoices"][0]["AmountDue"] == Decimal("100.02")


def test_an_authorised_unpaid_invoice_can_be_voided_and_a_paid_one_cannot(xero):
    acme = contact(xero)
    first, second = invoice(xero, acme), invoice(xero, acme)
    voided = api(xero, "POST", f"Invoices/{first['InvoiceID']}", {"InvoiceID": first["InvoiceID"], "Status": "VOIDED"})
    assert amounts(voided)["Invoices"][0]["Status"] == "VOIDED"
    api(xero, "PUT", "Payments", {"Invoice": {"InvoiceID": second["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 1})
    refused = api(xero, "POST", "Invoices", {"Invoices": [{"InvoiceID": second["InvoiceID"], "Status": "VOIDED"}]})
    assert refused.json()["Elements"][0]["ValidationErrors"] == [{"Message": "Invoice not of valid status for modification"}]
    assert {entry["status"] for entry in xero.sandbox.requests()} == {200, 400}  # never a 500: answers match the spec


# --- Xero's own SDK -------------------------------------------------------------------------

def test_xero_pythons_accounting_api_creates_reads_and_lists_a_contact_an_invoice_and_a_payment(xero):
    stored: dict = {}
    client = ApiClient(Configuration(oauth2_token=OAuth2Token(client_id="xero-sandbox-client",
                                                              client_secret="xero-sandbox-secret")),
                       pool_threads=1, oauth2_token_saver=stored.update, oauth2_token_getter=lambda: stored)
    client.set_oauth2_token({"access_token": "xero-sandbox-access-token", "token_type": "Bearer",
                             "expires_in": 1800, "expires_at": 4_000_000_000, "scope": ["accounting.transactions"]})
    accounting = AccountingApi(client, base_url=f"{xero.url}/api.xro/2.0")

    created = accounting.create_contacts(DEFAULT_TENANT, Contacts(contacts=[Contact(name="Acme", contact_number="cus_1")]),
                                         summarize_errors=False)
    contact_id = created.contacts[0].contact_id
    assert [c.name for c in accounting.get_contacts(DEFAULT_TENANT, where='ContactNumber=="cus_1"').contacts] == ["Acme"]
    [contact] = accounting.get_contact(DEFAULT_TENANT, contact_id).contacts
    assert (contact.contact_id, contact.name, contact.contact_number) == (contact_id, "Acme", "cus_1")
    new = Invoice(type="ACCREC", contact=Contact(contact_id=contact_id), status="AUTHORISED",
                  line_items=[LineItem(description="Plan", quantity=2, unit_amount=12.5, account_code="200",
                                       tax_type="NONE")])
    made = accounting.create_invoices(DEFAULT_TENANT, Invoices(invoices=[new]), summarize_errors=False).invoices[0]
    assert made.total == 25.0 and made.status == "AUTHORISED"
    read = accounting.get_invoice(DEFAULT_TENANT, made.invoice_id).invoices[0]
    assert read.invoice_number == made.invoice_number and read.amount_due == 25.0
    paid = accounting.create_payment(DEFAULT_TENANT, Payment(invoice=Invoice(invoice_id=made.invoice_id),
                                                             account=Account(code="090"), amount=25.0,
                                                             date=datetime.date(2026, 11, 5)))
    assert paid.payments[0].amount == 25.0
    assert [p.payment_id for p in accounting.get_payments(DEFAULT_TENANT).payments] == [paid.payments[0].payment_id]
    [payment] = accounting.get_payment(DEFAULT_TENANT, paid.payments[0].payment_id).payments
    assert (payment.amount, payment.invoice.invoice_id, payment.account.code) == (25.0, made.invoice_id, "090")
    assert [i.status for i in accounting.get_invoices(DEFAULT_TENANT).invoices] == ["PAID"]
