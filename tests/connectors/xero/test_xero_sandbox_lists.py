"""The Xero sandbox's list and fetch answers carry what Xero's carry around their collection:
``Id``, ``Status``, ``ProviderName``, ``DateTimeUTC`` (as Xero writes it, ``/Date(ms)/``) and,
on a paged list, ``pagination`` — the top-level fields of the response examples in Xero's
OpenAPI (getInvoices, getContacts, getCreditNotes), each checked, the collection validated
against the strict spec."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledgerlink import jsonio
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import api as sandbox_api
from ledgerlink_sandboxes.xero import create_sandbox, spec
from test_xero_sandbox_api import api

LINES = [{"Description": "Plan", "Quantity": 1, "UnitAmount": 12, "AccountCode": "200", "TaxType": "NONE"}]


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
def xero(now):
    with running(create_sandbox(clock=lambda: now[0], wall_clock=lambda: 1_790_000_000.0 + now[0])) as served:
        yield served


def example_keys(operation: str) -> set[str]:
    """The top-level fields of the 200 example of ``operation`` in Xero's OpenAPI."""
    for item in spec._accounting()["paths"].values():
        for method in item.values():
            if isinstance(method, dict) and method.get("operationId") == operation:
                return set(method["responses"]["200"]["content"]["application/json"]["example"])
    raise AssertionError(operation)


def made(xero) -> dict[str, str]:
    contact = api(xero, "PUT", "Contacts", {"Name": "Acme"}).json()["Contacts"][0]["ContactID"]
    invoice = api(xero, "PUT", "Invoices", {"Type": "ACCREC", "Contact": {"ContactID": contact},
                                            "Status": "AUTHORISED", "LineItems": LINES}).json()["Invoices"][0]
    credit = api(xero, "PUT", "CreditNotes", {"Type": "ACCRECCREDIT", "Contact": {"ContactID": contact},
                                              "Status": "AUTHORISED", "LineItems": LINES}).json()["CreditNotes"][0]
    return {"Contacts": contact, "Invoices": invoice["InvoiceID"], "CreditNotes": credit["CreditNoteID"]}


@pytest.mark.parametrize("collection,operation", [("Invoices", "getInvoices"), ("Contacts", "getContacts"),
                                                  ("CreditNotes", "getCreditNotes")])
def test_a_paged_list_has_the_fields_of_xeros_own_example_each_as_xero_writes_it(xero, now, collection, operation):
    made(xero)
    answer = api(xero, "GET", collection, page="1", order="UpdatedDateUTC ASC")
    body = jsonio.loads(answer.content)
    assert set(body) == example_keys(operation) == {"Id", "Status", "ProviderName", "DateTimeUTC", "pagination",
                                                    collection}
    assert sandbox_api.envelope_problems(body) == []
    assert body["DateTimeUTC"] == f"/Date({int((1_790_000_000 + now[0]) * 1000)})/"  # the sandbox's clock
    assert body["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 1}
    assert spec.problems(collection, {k: body[k] for k in ("pagination", collection)}) == []
    again = jsonio.loads(api(xero, "GET", collection, page="1").content)
    assert again["Id"] != body["Id"]  # every answer has an id of its own


def test_a_fetch_by_id_and_a_create_answer_in_the_same_envelope_without_pagination(xero):
    ids = made(xero)
    for collection, ident in ids.items():
        body = jsonio.loads(api(xero, "GET", f"{collection}/{ident}").content)
        assert set(body) == {"Id", "Status", "ProviderName", "DateTimeUTC", collection}
        assert sandbox_api.envelope_problems(body) == []
    created = api(xero, "PUT", "Contacts", {"Name": "Beta"}, summarizeErrors="false").json()
    assert set(created) == {"Id", "Status", "ProviderName", "DateTimeUTC", "Contacts"}


def test_pages_count_what_the_filters_left_and_the_last_page_is_short(xero):
    assert api(xero, "PUT", "Contacts", {"Contacts": [{"Name": f"C{n:03d}"} for n in range(101)]}).status_code == 200
    first, second = (jsonio.loads(api(xero, "GET", "Contacts", page=str(p)).content) for p in (1, 2))
    assert (len(first["Contacts"]), len(second["Contacts"])) == (100, 1)
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 101}
    assert second["pagination"]["page"] == 2
    assert "pagination" not in jsonio.loads(api(xero, "GET", "Contacts").content)  # unpaged: all, no pagination


def test_envelope_problems_catches_each_field_xero_would_not_write():
    good = {"Id": "900c500b-e83c-4ce2-902a-b8ba04751748", "Status": "OK", "ProviderName": "App",
            "DateTimeUTC": "/Date(1552326816230)/"}
    assert sandbox_api.envelope_problems(good) == []
    for field, wrong in (("Id", "42"), ("Status", "ERROR"), ("ProviderName", ""),
                         ("DateTimeUTC", "2019-03-11T17:53:36"), ("DateTimeUTC", "/Date(1552326816230+0000)/")):
        assert [p.split(":")[0] for p in sandbox_api.envelope_problems({**good, field: wrong})] == [field]


def test_the_amounts_in_an_envelope_stay_exact(xero):
    ident = made(xero)["Invoices"]
    body = jsonio.loads(api(xero, "GET", f"Invoices/{ident}").content)
    assert body["Invoices"][0]["Total"] == Decimal("12.00")
    assert json.loads(api(xero, "GET", f"Invoices/{ident}").content)["Status"] == "OK"
