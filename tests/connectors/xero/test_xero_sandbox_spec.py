"""The Xero sandbox's check of bodies: Xero's own OpenAPI, made strict."""

from __future__ import annotations

import json

import pytest

from ledgerlink import jsonio
from ledgerlink_sandboxes.xero import spec

#: the operations the connector sends: Xero's own request example of each passes the strict spec
CONNECTOR_OPERATIONS = [
    ("PUT", "/Contacts"), ("POST", "/Contacts"), ("PUT", "/Invoices"), ("POST", "/Invoices"),
    ("PUT", "/Payments"), ("PUT", "/ManualJournals"), ("PUT", "/CreditNotes"),
    ("PUT", "/CreditNotes/{CreditNoteID}/Allocations"), ("PUT", "/Items"),
]

#: Xero's request examples the strict spec refuses, each for a reason a strict check must catch:
#: a field spelt otherwise than the schema (``Lineitems``, ``bankTransactions``, ``name``), an
#: amount as a string, a required field missing, a body of another schema than the one declared
REFUSED_EXAMPLES = {
    ("PUT", "/BankTransactions"), ("POST", "/BankTransactions"),
    ("POST", "/BankTransactions/{BankTransactionID}"), ("PUT", "/BankTransfers"),
    ("PUT", "/ExpenseClaims"), ("POST", "/ExpenseClaims/{ExpenseClaimID}"), ("PUT", "/LinkedTransactions"),
    ("POST", "/Payments"), ("POST", "/Payments/{PaymentID}"), ("PUT", "/Receipts"),
    ("POST", "/Receipts/{ReceiptID}"), ("PUT", "/RepeatingInvoices"), ("POST", "/RepeatingInvoices"),
    ("POST", "/RepeatingInvoices/{RepeatingInvoiceID}"), ("PUT", "/TrackingCategories"),
    ("PUT", "/TrackingCategories/{TrackingCategoryID}/Options"),
    ("POST", "/TrackingCategories/{TrackingCategoryID}/Options/{TrackingOptionID}"),
}


def example(operation: tuple[str, str]):
    name, text = spec.request_bodies()[operation]
    return name, jsonio.loads(text) if isinstance(text, str) else text


@pytest.mark.parametrize("operation", CONNECTOR_OPERATIONS, ids=" ".join)
def test_xeros_own_request_examples_pass_the_strict_spec(operation):
    name, body = example(operation)
    assert spec.problems(name, body) == []


def test_the_strict_spec_refuses_exactly_the_examples_that_misspell_or_mistype_a_field():
    refused = {operation for operation in spec.request_bodies()
               if spec.request_bodies()[operation][1] is not None and spec.problems(*example(operation))}
    assert refused == REFUSED_EXAMPLES
    name, body = example(("PUT", "/ExpenseClaims"))
    assert spec.problems(name, body) == [
        "ExpenseClaims.0.Receipts.0: Additional properties are not allowed ('Lineitems' was unexpected)"]


def test_a_misspelt_field_fails_where_xeros_spec_alone_would_let_it_pass():
    body = {"Contacts": [{"Name": "Acme", "EmailAdress": "ap@acme.test"}]}
    assert spec.problems("Contacts", body) == [
        "Contacts.0: Additional properties are not allowed ('EmailAdress' was unexpected)"]
    nested = {"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": "0b6d4d5e-8e44-4b5b-9d39-62c1a1ec0f0a"},
                            "LineItems": [{"Description": "x", "UnitAmont": 10}]}]}
    assert spec.problems("Invoices", nested) == [
        "Invoices.0.LineItems.0: Additional properties are not allowed ('UnitAmont' was unexpected)"]


@pytest.mark.parametrize("value, ok", [
    ("2026-11-30", True), ("2026-11-30T10:15:00", True), ("2019-02-21T16:29:47.96-08:00", True),
    ("/Date(1573755038314)/", True), ("/Date(1573755038314+0000)/", True),
    ("30/11/2026", False), ("2026-11-30 10:15", False), ("/Date(abc)/", False), ("", False),
])
def test_dates_are_iso_8601_as_sent_or_microsoft_json_as_answered(value, ok):
    problems = spec.problems("Invoice", {"Date": value})
    assert problems == ([] if ok else [f"Date: {value!r} is not a date (YYYY-MM-DD or /Date(ms)/)"])


def test_amounts_are_json_numbers_read_exactly_never_strings():
    body = jsonio.loads(json.dumps({"Payments": [{"Amount": 12.35}]}))
    assert spec.problems("Payments", body) == []
    assert spec.problems("Payments", {"Payments": [{"Amount": "12.35"}]}) == [
        "Payments.0.Amount: '12.35' is not of type 'number'"]


def test_the_identity_spec_describes_connections_strictly():
    connection = {"id": "e1eede29-f875-4a5d-8470-17f6a29a88b1", "authEventId": "d99ecdfe-391d-43d2-b834-17636ba90e8d",
                  "tenantId": "70784a63-d24b-46a9-a4db-0e70a274b056", "tenantType": "ORGANISATION",
                  "tenantName": "Demo Company (US)", "createdDateUtc": "2026-11-30T12:00:00.0000000",
                  "updatedDateUtc": "2026-11-30T12:00:00.0000000"}
    assert spec.problems("Connection", connection, identity=True) == []
    assert spec.problems("Connection", {**connection, "tenantID": "x"}, identity=True) == [
        "(body): Additional properties are not allowed ('tenantID' was unexpected)"]


def test_unknown_schema_names_are_refused():
    with pytest.raises(KeyError, match="no schema 'Invoicez'"):
        spec.problems("Invoicez", {})
