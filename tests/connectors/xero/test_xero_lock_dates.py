"""At run time, what Xero refuses for good because of the organisation's settings: a document
dated inside a locked period, one in a currency the organisation has not enabled. The step
fails permanently (a retry would meet the same refusal) with Xero's message, the lock date or
the currency named, and the fix — against the Xero sandbox over loopback HTTP."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink.contract import Response
from ledgerlink.errors import VendorError
from ledgerlink.testing import HttpSender, context, drive
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from ledgerlink_xero.bank import CREATE_BANK_TRANSACTION
from ledgerlink_xero.contacts import FIND_OR_CREATE_CONTACT
from ledgerlink_xero.errors import classify
from ledgerlink_xero.invoice import ACTION as CREATE_INVOICE
from ledgerlink_xero.manual_journal import ACTION as CREATE_MANUAL_JOURNAL
from xero_openapi_requests import problems


@pytest.fixture
def xero():
    app = create_sandbox(clock=lambda: 1000.0, wall_clock=lambda: 1_790_000_000.0)
    with running(app) as served, httpx.Client(timeout=10.0) as client:
        settings = {"api_base": f"{served.url}/api.xro/2.0", "tenant_id": DEFAULT_TENANT, "base_currency": "USD"}
        send = HttpSender(client, {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}", "xero-tenant-id": DEFAULT_TENANT},
                          check=lambda request: problems(request) == [] or pytest.fail(str(problems(request))))
        contact = drive(FIND_OR_CREATE_CONTACT.perform({"source_id": "cus_L1", "Name": "Lakeside Ltd"},
                                                       context("xero", settings, key="c")), send).value["id"]
        yield served, settings, send, contact


def invoice(contact: str, **fields) -> dict:
    return {"ContactID": contact, "Date": "2026-11-15", "Reference": "in_L1", "CurrencyCode": "USD",
            "LineAmountTypes": "NoTax",
            "LineItems": [{"Description": "Plan", "UnitAmount": "40.00", "AccountCode": "200"}], **fields}


def refused(steps, send) -> VendorError:
    with pytest.raises(VendorError) as error:
        drive(steps, send)
    assert error.value.kind == "permanent"
    return error.value


def test_a_document_dated_inside_the_period_lock_fails_for_good_naming_the_date_and_the_fix(xero):
    served, settings, send, contact = xero
    served.sandbox.orgs[DEFAULT_TENANT].set_lock_dates("2026-11-30", None)
    error = refused(CREATE_INVOICE.perform(invoice(contact), context("xero", settings, key="k1")), send)
    message = str(error)
    assert "The document date cannot be before the period lock date, currently set at 30-Nov-2026" in message
    assert "locked for everyone but advisers through 30-Nov-2026" in message
    assert "date the document after it, or have an adviser move the lock date" in message
    assert served.sandbox.orgs[DEFAULT_TENANT].all("Invoices") == []
    # the day after the lock date is open
    done = drive(CREATE_INVOICE.perform(invoice(contact, Date="2026-12-01"), context("xero", settings, key="k2")),
                 send).value
    assert done["status"] == "AUTHORISED"


def test_the_end_of_year_lock_refuses_every_kind_of_document(xero):
    served, settings, send, contact = xero
    served.sandbox.orgs[DEFAULT_TENANT].set_lock_dates(None, "2025-12-31")
    fee = {"Type": "SPEND", "ContactID": contact, "BankAccountCode": "090", "Date": "2025-12-31",
           "Reference": "txn_L1", "CurrencyCode": "USD",
           "LineItems": [{"Description": "Stripe fees", "UnitAmount": "1.20", "AccountCode": "404"}]}
    journal = {"Narration": "Stripe payout po_L1", "Date": "2025-06-30",
               "JournalLines": [{"AccountCode": "090", "Debit": "5.00"}, {"AccountCode": "260", "Credit": "5.00"}]}
    for steps in (CREATE_BANK_TRANSACTION.perform(fee, context("xero", settings, key="k3")),
                  CREATE_MANUAL_JOURNAL.perform(journal, context("xero", settings, key="k4"))):
        message = str(refused(steps, send))
        assert "end of year lock date, currently set at 31-Dec-2025" in message
        assert "locked for everyone through 31-Dec-2025" in message


def test_a_document_in_a_currency_not_enabled_fails_for_good_naming_it_and_the_fix(xero):
    _, settings, send, contact = xero
    error = refused(CREATE_INVOICE.perform(invoice(contact, CurrencyCode="GBP", exchange_rate="1.27"),
                                           context("xero", settings, key="k5")), send)
    assert "Organisation is not subscribed to currency GBP" in str(error)
    assert "has not enabled GBP: add it in Xero (Settings > Currencies > Add Currency)" in str(error)


def test_a_whole_batch_refused_names_each_fix_once():
    body = {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [
                {"Message": "Organisation is not subscribed to currency GBP"},
                {"Message": "The document date cannot be before the period lock date, currently set at 31-Oct-2026"}]},
                {"ValidationErrors": [
                    {"Message": "The document date cannot be before the period lock date, currently set at 31-Oct-2026"}]}]}
    error = classify(Response(status=400, json=body))
    assert error is not None and error.kind == "permanent"
    assert str(error).count("locked for everyone but advisers through 31-Oct-2026") == 1
    assert str(error).count("has not enabled GBP") == 1
    assert str(error).count("/Elements/1: The document date cannot be before") == 1
