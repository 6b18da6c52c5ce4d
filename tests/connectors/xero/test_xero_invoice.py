"""xero.create_invoice: an ACCREC invoice exactly once — its body as Xero's spec and SDK read
it, money exact by currency, the foreign-currency rate's direction, found again by its
Reference after the key expired, undone by deleting or voiding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.contract import Response
from ledgerlink.errors import InputError, VendorError
from ledgerlink.testing import Script, context, drive
from ledgerlink_xero.fields import xero_rate
from ledgerlink_xero.invoice import ACTION, SAMPLE, SAMPLE_RESPONSE
from xero_openapi_requests import problems
from xero_sdk import sdk_reads

SETTINGS = {"api_base": "http://127.0.0.1:9/api.xro/2.0", "tenant_id": "org-1", "base_currency": "USD"}
CTX = context("xero", SETTINGS, key="run-9-step-2")
INVOICE_ID = "6a1c4f52-7d7e-4d5b-9a3c-4b1a2f0e9d11"
CONTACT = SAMPLE["ContactID"]


def body_of(data):
    driven = drive(ACTION.perform(data, CTX), Script(SAMPLE_RESPONSE))
    (request,) = driven.requests
    assert problems(request) == []
    sdk_reads("Invoices", request.json)
    return request.json["Invoices"][0], driven


def test_the_sample_is_one_keyed_put_xero_and_its_sdk_accept():
    invoice, driven = body_of(SAMPLE)
    request = driven.requests[0]
    assert (request.method, request.params["summarizeErrors"], request.params["unitdp"]) == ("PUT", "false", "4")
    assert request.headers["Idempotency-Key"] == "run-9-step-2"
    assert invoice == {"Type": "ACCREC", "Contact": {"ContactID": CONTACT}, "Date": "2026-11-30",
                       "DueDate": "2026-12-14", "Reference": SAMPLE["Reference"], "CurrencyCode": "USD",
                       "LineAmountTypes": "NoTax", "Status": "AUTHORISED",
                       "LineItems": [{"Description": "Pro plan, November", "Quantity": Decimal("1"),
                                      "UnitAmount": Decimal("49.00"), "AccountCode": "200"}]}
    assert "CurrencyRate" not in invoice  # the base currency has no rate
    assert driven.value == {"id": INVOICE_ID, "number": "INV-0042", "status": "AUTHORISED", "total": "49.00",
                            "link": {"source_id": SAMPLE["Reference"], "target_type": "xero.create_invoice"}}


def test_a_foreign_currency_sends_both_code_and_xeros_rate_the_inverse_of_stripes():
    """Stripe: 100.00 EUR × exchange_rate 1.25 = 125.00 USD settled. Xero's CurrencyRate is EUR
    per one USD: 0.8, so Xero books 100.00 / 0.8 = 125.00 USD as Stripe did."""
    invoice, _ = body_of({**SAMPLE, "CurrencyCode": "EUR", "exchange_rate": "1.25",
                          "LineItems": [{"Description": "Plan", "UnitAmount": "100.00"}]})
    assert (invoice["CurrencyCode"], invoice["CurrencyRate"]) == ("EUR", Decimal("0.800000"))
    assert Decimal("100.00") / invoice["CurrencyRate"] == Decimal("125.00")
    assert xero_rate(Decimal("0.0091")) == Decimal("109.890110")  # USD per JPY → JPY per USD, 6 places


def test_a_foreign_currency_without_a_rate_is_refused_never_left_to_xeros_day_rate():
    with pytest.raises(InputError) as error:
        drive(ACTION.perform({**SAMPLE, "CurrencyCode": "EUR"}, CTX), Script())
    assert "/exchange_rate" in str(error.value) and "base_currency" in str(error.value)
    with pytest.raises(InputError, match="whose rate is 1"):
        drive(ACTION.perform({**SAMPLE, "exchange_rate": "1.1"}, CTX), Script())


@pytest.mark.parametrize("currency, unit, quantity, fits", [
    ("JPY", "1500", "1", True), ("JPY", "1500.5", "1", False), ("KWD", "12.34", "1", True),
    ("KWD", "12.3455", "1", False), ("USD", "0.3333", "3", False), ("USD", "0.3333", "30", False),
    ("USD", "0.0125", "200", True)])
def test_line_amounts_must_be_exact_in_the_currency_so_xero_never_rounds(currency, unit, quantity, fits):
    data = {**SAMPLE, "CurrencyCode": currency,
            "LineItems": [{"Description": "x", "UnitAmount": unit, "Quantity": quantity}]}
    if currency != "USD":
        data["exchange_rate"] = "0.01"
    if fits:
        _, driven = body_of(data)
    else:
        with pytest.raises(InputError, match="has more decimals than"):
            drive(ACTION.perform(data, CTX), Script())


def test_a_kwd_amount_with_three_decimals_is_refused_since_xero_keeps_two_in_every_currency():
    data = {**SAMPLE, "CurrencyCode": "KWD", "exchange_rate": "3.25",
            "LineItems": [{"Description": "x", "UnitAmount": "12.345"}]}
    with pytest.raises(InputError, match="more than the 2 decimal places Xero keeps of an amount in any currency "
                                         r"\(KWD has 3\)"):
        drive(ACTION.perform(data, CTX), Script())


def test_every_problem_is_named_at_once_before_a_request():
    bad = {"ContactID": CONTACT, "Date": "30/11/2026", "Reference": "r" * 256, "CurrencyCode": "EURO",
           "LineAmountTypes": "Gross", "LineItems": [{"Description": "a", "UnitAmount": 12.5},
                                                     {"Description": "b", "UnitAmount": "1.23456"},
                                                     {"UnitAmount": "1", "Colour": "red"}]}
    with pytest.raises(InputError) as error:
        drive(ACTION.perform(bad, CTX), Script())
    found = error.value.details["problems"]
    for pointer in ("/Date", "/Reference", "/CurrencyCode", "/LineAmountTypes", "/LineItems/0/UnitAmount",
                    "/LineItems/1/UnitAmount", "/LineItems/2/Colour", "/LineItems/2"):
        assert any(problem.startswith(pointer + ":") for problem in found), (pointer, found)


def test_a_line_xero_refuses_in_a_200_fails_for_good_naming_it():
    refused = {"Invoices": [{"StatusAttributeString": "ERROR", "LineItems": [{"ValidationErrors": [
        {"Message": "Account code '999' is not a valid code for this document."}]}]}]}
    with pytest.raises(VendorError) as error:
        drive(ACTION.perform(SAMPLE, CTX), Script(refused))
    assert error.value.kind == "permanent"
    assert "/Invoices/0/LineItems/0: Account code '999'" in str(error.value)


STORED = {"InvoiceID": INVOICE_ID, "InvoiceNumber": "INV-0042", "Type": "ACCREC", "Status": "AUTHORISED",
          "Contact": {"ContactID": CONTACT}, "Reference": SAMPLE["Reference"], "CurrencyCode": "USD",
          "Date": "/Date(1795996800000+0000)/", "Total": 49.0, "LineItems": [{"LineAmount": 49.0}]}


def test_find_existing_reads_the_contacts_invoices_of_the_reference_and_matches_what_it_sends():
    driven = drive(ACTION.find_existing(SAMPLE, CTX), Script({"Invoices": [STORED]}))
    (request,) = driven.requests
    assert problems(request) == []
    assert request.params["where"] == f'Type=="ACCREC" AND Reference=="{SAMPLE["Reference"]}"'
    assert request.params["ContactIDs"] == CONTACT and request.params["page"] == "1"
    assert driven.value["id"] == INVOICE_ID
    for other in ({"Status": "VOIDED"}, {"CurrencyCode": "EUR"}, {"LineItems": [{"LineAmount": 48.0}]},
                  {"Date": "/Date(1796083200000+0000)/"}, {"Contact": {"ContactID": "x"}}):
        assert drive(ACTION.find_existing(SAMPLE, CTX), Script({"Invoices": [{**STORED, **other}]})).value is None


def test_undo_voids_an_authorised_invoice_deletes_a_draft_and_takes_gone_as_undone():
    authorised = {"Invoices": [{"InvoiceID": INVOICE_ID, "Status": "AUTHORISED"}]}
    voided = {"Invoices": [{"InvoiceID": INVOICE_ID, "Status": "VOIDED", "StatusAttributeString": "OK"}]}
    driven = drive(ACTION.undo(INVOICE_ID, CTX), Script(authorised, voided))
    assert driven.value == {"id": INVOICE_ID, "status": "voided"}
    write = driven.requests[1]
    assert write.method == "POST" and write.json == {"Invoices": [{"InvoiceID": INVOICE_ID, "Status": "VOIDED"}]}
    assert problems(write) == []
    draft = {"Invoices": [{"InvoiceID": INVOICE_ID, "Status": "DRAFT"}]}
    deleted = {"Invoices": [{"InvoiceID": INVOICE_ID, "Status": "DELETED"}]}
    driven = drive(ACTION.undo(INVOICE_ID, CTX), Script(draft, deleted))
    assert driven.requests[1].json["Invoices"][0]["Status"] == "DELETED" and driven.value["status"] == "deleted"
    for gone in (Response(status=404), voided):
        assert drive(ACTION.undo(INVOICE_ID, CTX), Script(gone)).value == {"id": INVOICE_ID, "status": "already gone"}
    paid = {"Invoices": [{"InvoiceID": INVOICE_ID, "StatusAttributeString": "ERROR", "ValidationErrors": [
        {"Message": "Invoice could not be voided because it has payments applied."}]}]}
    with pytest.raises(VendorError, match="has payments applied"):
        drive(ACTION.undo(INVOICE_ID, CTX), Script(authorised, paid))


def test_the_sdk_reads_dates_only_as_xero_answers_them():
    """Pins why xero_sdk hands dates to xero-python as /Date(ms)/: its reader takes
    "2026-11-30" for the month "2026-11" and fails. Drop the conversion when this fails."""
    from xero_python.api_client.deserializer import deserialize
    from xero_sdk import FINDER

    with pytest.raises(ValueError):
        deserialize("Invoices", {"Invoices": [{"Date": "2026-11-30"}]}, FINDER)


def test_a_credit_note_is_the_same_shape_as_an_accrec_credit_in_its_own_collection():
    from ledgerlink_xero.invoice import CREATE_CREDIT_NOTE, CREDIT_NOTE_RESPONSE, CREDIT_NOTE_SAMPLE

    driven = drive(CREATE_CREDIT_NOTE.perform({**CREDIT_NOTE_SAMPLE, "CurrencyCode": "KWD", "exchange_rate": "3.25",
                                               "LineItems": [{"Description": "Refund", "UnitAmount": "12.340"}]},
                                              CTX), Script(CREDIT_NOTE_RESPONSE))
    (request,) = driven.requests
    assert problems(request) == [] and request.url.endswith("/CreditNotes")
    sdk_reads("CreditNotes", request.json)
    note = request.json["CreditNotes"][0]
    assert (note["Type"], note["CurrencyCode"], note["CurrencyRate"]) == ("ACCRECCREDIT", "KWD", Decimal("0.307692"))
    assert driven.value["link"] == {"source_id": CREDIT_NOTE_SAMPLE["Reference"], "target_type": "xero.create_credit_note"}
    lookup = drive(CREATE_CREDIT_NOTE.find_existing(CREDIT_NOTE_SAMPLE, CTX), Script({"CreditNotes": []}))
    assert problems(lookup.requests[0]) == [] and lookup.value is None
    assert lookup.requests[0].params["where"] == f'Type=="ACCRECCREDIT" AND Reference=="{CREDIT_NOTE_SAMPLE["Reference"]}"'


def test_an_allocation_is_undone_through_its_credit_note_and_gone_counts_as_undone():
    from ledgerlink_xero.allocation import ACTION as ALLOCATE

    target = "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b/b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
    driven = drive(ALLOCATE.undo(target, CTX), Script(Response(status=200, json={"Allocations": []})))
    (request,) = driven.requests
    assert (request.method, problems(request), driven.value["status"]) == ("DELETE", [], "deleted")
    assert request.url.endswith("/CreditNotes/3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b/Allocations/"
                                "b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
    assert drive(ALLOCATE.undo(target, CTX), Script(Response(status=404))).value["status"] == "already gone"
    with pytest.raises(InputError):
        drive(ALLOCATE.undo("no-slash", CTX), Script())


def test_what_a_run_creates_is_linked_under_an_action_that_undoes_it_and_contacts_are_kept():
    """``ledgerlink runs undo`` voids or deletes what a run linked under an action's name and
    keeps every other link (an entity later runs share): each Xero action that links its
    output links a document it created under its own name, and a contact under another."""
    from ledgerlink_xero import ACTIONS
    from ledgerlink_xero.contacts import TARGET_TYPE
    from ledgerlink_xero.invoice import CREATE_CREDIT_NOTE, CREDIT_NOTE, INVOICE

    names = {action.name for action in ACTIONS}
    assert INVOICE.target_type == ACTION.name and CREDIT_NOTE.target_type == CREATE_CREDIT_NOTE.name
    assert {INVOICE.target_type, CREDIT_NOTE.target_type} <= names and ACTION.undo and CREATE_CREDIT_NOTE.undo
    assert TARGET_TYPE not in names
