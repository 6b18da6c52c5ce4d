"""Xero's answers classified, and the sans-I/O client: envelopes read element by element,
the idempotency key, unit decimals, dates and filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledgerlink.contract import Response
from ledgerlink.errors import ConfigError, InputError, VendorError
from ledgerlink.testing import context
from ledgerlink_xero import CONNECTOR
from ledgerlink_xero.api import (IDEMPOTENCY_KEY_LIFETIME, create, created, elements, quoted, read, where_all,
                                 xero_date)
from ledgerlink_xero.errors import classify

JSON = {"Content-Type": "application/json"}
CTX = context("xero", {"api_base": "http://127.0.0.1:9/api.xro/2.0", "tenant_id": "org-1"}, key="run-7-step-1")

#: Xero's 400 for an invoice with two invalid lines ([spec] Error, Element, ValidationError)
VALIDATION = {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
              "Elements": [{"Type": "ACCREC", "Contact": {"ContactID": "c1"},
                            "LineItems": [{"Description": "Plan", "ValidationErrors": []},
                                          {"Description": "Fee", "AccountCode": "999",
                                           "ValidationErrors": [{"Message": "Account code '999' is not a valid code for this document."}]}],
                            "ValidationErrors": [{"Message": "Invoice not of valid status for creation"},
                                                 {"Message": "Email address must be valid."}]}]}


def answer(status: int, body=None, **headers: str) -> Response:
    return Response(status=status, headers={**JSON, **headers}, json=body)


def test_a_validation_exception_is_permanent_and_names_every_message_where_it_sits():
    error = classify(answer(400, VALIDATION))
    assert error.kind == "permanent" and error.vendor_code == "10"
    message = str(error)
    assert "/Elements/0: Invoice not of valid status for creation" in message
    assert "/Elements/0: Email address must be valid." in message
    assert "/Elements/0/LineItems/1: Account code '999' is not a valid code for this document." in message
    assert "ValidationException" in message


@pytest.mark.parametrize("problem, words", [("minute", "60 calls a minute"), ("day", "daily call limit"),
                                            ("concurrent", "5 calls in progress")])
def test_a_429_waits_as_long_as_xero_says_and_names_the_limit(problem, words):
    error = classify(answer(429, None, **{"Retry-After": "37", "X-Rate-Limit-Problem": problem}))
    assert (error.kind, error.retry_after, error.vendor_code) == ("retry", 37.0, problem)
    assert words in str(error)


def test_a_429_without_retry_after_waits_for_the_minute_window():
    assert classify(answer(429, None)).retry_after == 60.0


def test_a_401_asks_for_a_refresh_or_reconnect_and_a_5xx_is_retried():
    refused = classify(answer(401, {"Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful",
                                    "Instance": "f2d4-…"}, **{"Xero-Correlation-Id": "corr-1"}))
    assert refused.kind == "reauth" and "AuthenticationUnsuccessful" in str(refused) and "corr-1" in str(refused)
    assert classify(answer(503, {"Message": "Organisation offline"})).kind == "retry"
    assert classify(answer(500, None)).kind == "retry"
    assert classify(answer(404, {"Type": "NotFound", "Message": "Resource not found"})).kind == "permanent"
    assert classify(answer(200, {"Invoices": []})) is None


def test_a_create_is_one_enveloped_put_with_the_key_and_summarize_errors_false():
    request = create(CTX, "Invoices", {"Type": "ACCREC"}, "xero.create_invoice")
    assert (request.method, request.url) == ("PUT", "http://127.0.0.1:9/api.xro/2.0/Invoices")
    assert request.json == {"Invoices": [{"Type": "ACCREC"}]}
    assert request.params == {"summarizeErrors": "false", "unitdp": "4"}
    assert request.headers["Idempotency-Key"] == "run-7-step-1"
    journal = create(CTX, "ManualJournals", {"Narration": "x"}, "xero.create_manual_journal")
    assert journal.params == {"summarizeErrors": "false"}  # ManualJournals take no unitdp
    transfer = create(CTX, "BankTransfers", {}, "xero.create_bank_transfer")
    assert transfer.params == {}  # PUT /BankTransfers takes neither


def test_a_key_xero_cannot_keep_is_refused_before_a_request():
    with pytest.raises(InputError, match="at most 128"):
        create(context("xero", CTX.connection.settings, key="k" * 129), "Invoices", {}, "xero.create_invoice")
    with pytest.raises(InputError, match="no idempotency key"):
        create(context("xero", CTX.connection.settings, key=""), "Invoices", {}, "xero.create_invoice")
    with pytest.raises(ConfigError, match="api_base"):
        create(context("xero", {"api_base": "ftp://x"}), "Invoices", {}, "xero.create_invoice")


def test_the_keys_lifetime_is_xeros_six_minutes():
    assert IDEMPOTENCY_KEY_LIFETIME == 360.0 and CONNECTOR.idempotency_key_lifetime == 360.0


def test_an_element_in_error_in_a_200_fails_for_good_naming_its_messages():
    body = {"Invoices": [{"InvoiceID": "00000000-0000-0000-0000-000000000000", "StatusAttributeString": "ERROR",
                          "HasValidationErrors": True,
                          "ValidationErrors": [{"Message": "The TaxType code 'TAX999' does not exist"}]}]}
    with pytest.raises(VendorError) as error:
        created(answer(200, body), "Invoices", "invoice", "InvoiceID")
    assert error.value.kind == "permanent"
    assert "/Invoices/0: The TaxType code 'TAX999' does not exist" in str(error.value)


def test_an_element_ok_is_read_and_an_answer_without_it_is_an_unknown_outcome():
    body = {"Id": "a", "Status": "OK", "Invoices": [{"InvoiceID": "inv-1", "StatusAttributeString": "OK",
                                                     "Total": Decimal("12.50")}]}
    assert created(answer(200, body), "Invoices", "invoice", "InvoiceID")["Total"] == Decimal("12.50")
    for unreadable in ({"Id": "a"}, {"Invoices": []}, {"Invoices": [{"StatusAttributeString": "OK"}]}):
        with pytest.raises(VendorError) as error:
            created(answer(200, unreadable), "Invoices", "invoice", "InvoiceID")
        assert error.value.kind == "unknown"


def test_a_list_without_its_collection_is_retried_never_read_as_nothing_found():
    assert elements(answer(200, {"Contacts": [{"ContactID": "c"}]}), "Contacts", "contact") == [{"ContactID": "c"}]
    with pytest.raises(VendorError) as error:
        elements(answer(200, {"Id": "x"}), "Contacts", "contact")
    assert error.value.kind == "retry"


def test_filters_quote_values_and_refuse_what_xero_cannot_parse():
    assert where_all([("ContactNumber", "cus_Q1"), ("ContactStatus", "ACTIVE")]) == \
        'ContactNumber=="cus_Q1" AND ContactStatus=="ACTIVE"'
    assert quoted("O'Brien & Sons (NZ)", "Name") == '"O\'Brien & Sons (NZ)"'
    for bad in ('say "hi"', "back\\slash", "line\nbreak"):
        with pytest.raises(InputError, match="cannot match in a filter"):
            quoted(bad, "Name")
    request = read(CTX, "Contacts", where=where_all([("ContactNumber", "cus_Q1")]))
    assert request.params == {"where": 'ContactNumber=="cus_Q1"'}
    assert read(CTX, "Invoices", "0f2a7a4e-1c1b-4c8e-8f7e-3b0d2b1a9c55").params == {"unitdp": "4"}
    with pytest.raises(InputError):
        read(CTX, "Invoices", "../Contacts")


@pytest.mark.parametrize("value, day", [("/Date(1580607782916+0000)/", dt.date(2020, 2, 2)),
                                        ("/Date(1573755038314)/", dt.date(2019, 11, 14)),
                                        ("2026-11-30T00:00:00", dt.date(2026, 11, 30)),
                                        ("30/11/2026", None), (None, None)])
def test_xeros_dates_are_read_in_both_shapes(value, day):
    assert xero_date(value) == day
