"""Money across currencies in Xero: the direction of ``CurrencyRate``, pinned with Xero's own
numbers, and transfers between bank accounts of two currencies booked at Stripe's rate, exact
to the cent, against the Xero sandbox over loopback HTTP."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink.errors import InputError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from ledgerlink_sandboxes.xero.ledger import to_base
from ledgerlink_xero.bank import CREATE_BANK_TRANSFER
from ledgerlink_xero.contacts import FIND_OR_CREATE_CONTACT
from ledgerlink_xero.fields import xero_rate
from ledgerlink_xero.invoice import ACTION as CREATE_INVOICE
from ledgerlink_xero.legs import exact_rate
from ledgerlink_xero.oauth import auth_headers
from xero_openapi_requests import problems
from xero_sdk import sdk_reads

TRANSIT = "1010"


def checked(request):
    """Every body held to Xero's strict spec, and read by Xero's own SDK into its model."""
    assert problems(request) == []
    if isinstance(request.json, dict) and len(request.json) == 1:
        (model,) = request.json
        sdk_reads(model, request.json)


@pytest.fixture
def xero():
    app = create_sandbox(currencies=("USD", "EUR", "JPY", "KWD", "NZD"), clock=lambda: 1000.0,
                         wall_clock=lambda: 1_790_000_000.0)
    with running(app) as served, httpx.Client(timeout=10.0) as client:
        settings = {"api_base": f"{served.url}/api.xro/2.0", "tenant_id": DEFAULT_TENANT, "base_currency": "USD"}
        send = HttpSender(client, auth_headers({"access_token": DEFAULT_ACCESS_TOKEN, "tenant_id": DEFAULT_TENANT}),
                          check=checked)
        headers = {**send.auth, "Accept": "application/json"}
        for account in ({"Code": TRANSIT, "Name": "Funds in transit", "Type": "CURRENT"},
                        {"Code": "095", "Name": "Stripe EUR", "Type": "BANK", "BankAccountNumber": "STRIPE-EUR",
                         "CurrencyCode": "EUR"}):
            assert client.put(f"{settings['api_base']}/Accounts", json=account, headers=headers).status_code == 200
        stripe = drive(FIND_OR_CREATE_CONTACT.perform({"source_id": "acct_stripe", "Name": "Stripe"},
                                                      context("xero", settings, key="stripe")), send).value
        yield served, settings, send, stripe["id"]


def balances(served) -> dict[str, tuple[Decimal, Decimal]]:
    rows = jsonio.loads(httpx.get(f"{served.url}/__sandbox/balances/{DEFAULT_TENANT}").content)
    assert sum((row["BaseBalance"] for row in rows.values()), Decimal(0)) == 0  # the trial balance balances
    return {code: (row["Balance"], row["BaseBalance"]) for code, row in rows.items()
            if row["Balance"] or row["BaseBalance"]}


def transfer(stripe: str, **fields) -> dict:
    return {"FromBankAccountCode": "095", "ToBankAccountCode": "090", "Amount": "100.00", "CurrencyCode": "EUR",
            "ToCurrencyCode": "USD", "ToAmount": "108.70", "Date": "2026-11-04", "Reference": "po_EUR1",
            "ContactID": stripe, "TransitAccountCode": TRANSIT, **fields}


# --- the rate's direction -----------------------------------------------------------------

def test_currency_rate_is_units_of_the_document_currency_per_base_unit_as_in_xeros_own_example():
    """Xero's OpenAPI example of a quote (createQuotes' answer in xero_accounting.yaml): NZD, dated
    2020-02-01, ``CurrencyRate: 1.547150`` in a US organisation. One US dollar was worth about
    1.547 New Zealand dollars that day (one NZD about 0.646 USD): so the rate is NZD per USD,
    the document's currency per base unit — the inverse of Stripe's exchange_rate, which is
    base (settlement) units per one presentment unit."""
    assert xero_rate(Decimal("0.6463497")) == Decimal("1.547150")  # Stripe's USD per NZD → Xero's NZD per USD
    assert to_base(Decimal("500.00"), Decimal("1.547150")) == Decimal("323.17")  # the quote's 500 NZD in USD


def test_an_invoice_in_nzd_at_xeros_example_rate_is_booked_at_its_us_dollar_value(xero):
    served, settings, send, stripe = xero
    invoice = {"ContactID": stripe, "Date": "2020-02-01", "Reference": "in_NZ1", "CurrencyCode": "NZD",
               "exchange_rate": "0.6463497", "LineAmountTypes": "NoTax",
               "LineItems": [{"Description": "Half day training", "UnitAmount": "500.00", "AccountCode": "200"}]}
    driven = drive(CREATE_INVOICE.perform(invoice, context("xero", settings, key="k-nz")), send)
    assert send.sent[-1].json()["Invoices"][0]["CurrencyRate"] == 1.54715
    assert driven.value["total"] == "500.00"
    assert balances(served)["200"] == (Decimal("-323.17"),) * 2  # Sales in USD: 500 / 1.547150


# --- transfers between currencies ------------------------------------------------------------

@pytest.mark.parametrize("fields, spent, received, value", [
    # Stripe's EUR balance paid out to the USD bank: the USD side is the value
    ({}, ("095", Decimal("-100.00")), ("090", Decimal("108.70")), Decimal("108.70")),
    # USD bank to the EUR bank: the USD side is the value
    ({"FromBankAccountCode": "090", "ToBankAccountCode": "091", "CurrencyCode": "USD", "Amount": "250.00",
      "ToCurrencyCode": "EUR", "ToAmount": "230.55"}, ("090", Decimal("-250.00")), ("091", Decimal("230.55")),
     Decimal("250.00")),
    # EUR to JPY in a USD organisation: Stripe's rate of EUR gives the value
    ({"ToBankAccountCode": "092", "Amount": "1000.00", "ToCurrencyCode": "JPY", "ToAmount": "163000",
      "exchange_rate": "1.087"}, ("095", Decimal("-1000.00")), ("092", Decimal("163000")), Decimal("1087.00")),
    # KWD's third decimal is kept at Xero's two places only when it is a zero
    ({"FromBankAccountCode": "093", "CurrencyCode": "KWD", "Amount": "30.750", "ToAmount": "100.00"},
     ("093", Decimal("-30.75")), ("090", Decimal("100.00")), Decimal("100.00")),
])
def test_a_transfer_between_currencies_moves_each_side_in_its_own_currency_at_one_value(xero, fields, spent,
                                                                                          received, value):
    served, settings, send, stripe = xero
    data = transfer(stripe, **fields)
    done = drive(CREATE_BANK_TRANSFER.perform(data, context("xero", settings, key="k-tr")), send).value
    assert Decimal(done["base_amount"]) == value
    book = balances(served)
    assert book[spent[0]] == (spent[1], -value) and book[received[0]] == (received[1], value)
    assert TRANSIT not in book  # left at zero to the cent
    legs = send.sent[-1].json()["BankTransactions"]
    assert [leg["Type"] for leg in legs] == ["SPEND", "RECEIVE"] and done["received_id"] == legs[1]["BankTransactionID"]
    # found again, not twice
    again = drive(CREATE_BANK_TRANSFER.find_existing(data, context("xero", settings, key="k-tr2")), send).value
    assert (again["id"], again["received_id"]) == (done["id"], done["received_id"])
    # undone: both legs deleted, the books as they were
    assert drive(CREATE_BANK_TRANSFER.undo(done["id"], context("xero", settings, key="u")), send).value["status"] \
        == "deleted"
    assert spent[0] not in balances(served) and received[0] not in balances(served)
    assert drive(CREATE_BANK_TRANSFER.find_existing(data, context("xero", settings, key="k-tr3")), send).value is None


def test_the_legs_carry_xeros_rate_that_makes_each_exactly_the_value(xero):
    served, settings, send, stripe = xero
    drive(CREATE_BANK_TRANSFER.perform(transfer(stripe), context("xero", settings, key="k-r")), send)
    request = send.sent[-1].request
    assert "summarizeErrors" not in str(request.url)  # both legs or neither
    spend, receive = jsonio.loads(request.content)["BankTransactions"]
    assert spend["CurrencyRate"] == Decimal("0.919963") and "CurrencyRate" not in receive
    assert spend["LineItems"][0]["AccountCode"] == receive["LineItems"][0]["AccountCode"] == TRANSIT
    assert exact_rate(Decimal("100.00"), Decimal("108.70")) == Decimal("0.919963")


@pytest.mark.parametrize("fields, where", [
    ({"ToAmount": None}, "/ToAmount"), ({"TransitAccountCode": None}, "/TransitAccountCode"),
    ({"ContactID": None}, "/ContactID"),
    ({"exchange_rate": "1.087"}, "/exchange_rate"),  # one side is in USD: its amount is the value
    ({"ToBankAccountCode": "092", "ToCurrencyCode": "JPY", "ToAmount": "16300"}, "/exchange_rate"),
    ({"Amount": "12345678.91", "ToAmount": "13419753.12"}, "/Amount"),  # no 6-place rate is exact
    ({"ToAmount": "108.705"}, "/ToAmount"),
])
def test_a_transfer_between_currencies_that_cannot_be_exact_is_refused_before_a_request(xero, fields, where):
    _, settings, send, stripe = xero
    data = {key: value for key, value in transfer(stripe, **fields).items() if value is not None}
    before = len(send.sent)
    with pytest.raises(InputError) as refused:
        drive(CREATE_BANK_TRANSFER.perform(data, context("xero", settings, key="k-x")), send)
    assert f"{where}:" in str(refused.value) and len(send.sent) == before


def test_one_currency_takes_xeros_transfer_and_refuses_what_only_two_currencies_need(xero):
    _, settings, send, stripe = xero
    same = {"FromBankAccountCode": "095", "ToBankAccountCode": "091", "Amount": "50.00", "CurrencyCode": "EUR",
            "ToCurrencyCode": "EUR", "Date": "2026-11-04", "Reference": "po_EUR2"}
    done = drive(CREATE_BANK_TRANSFER.perform(same, context("xero", settings, key="k-s")), send).value
    assert done["amount"] == "50.00" and send.sent[-1].request.url.path.endswith("/BankTransfers")
    with pytest.raises(InputError) as refused:
        drive(CREATE_BANK_TRANSFER.perform({**same, "TransitAccountCode": TRANSIT, "ToAmount": "49.00"},
                                           context("xero", settings, key="k-s2")), send)
    assert "/TransitAccountCode:" in str(refused.value) and "/ToAmount:" in str(refused.value)
