"""Xero's triggers: each event's entity fetched by its id (none when Xero no longer has it),
the fetched event fitting the trigger's own schema."""

from __future__ import annotations

from decimal import Decimal

import jsonschema
import pytest

from ledgerlink import jsonio
from ledgerlink.contract import Response
from ledgerlink.errors import ConfigError, EventError, VendorError
from ledgerlink.testing import drive
from ledgerlink.testing.actions import context
from ledgerlink_xero import triggers, webhook

TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
SETTINGS = {"tenant_id": TENANT, "api_base": "http://127.0.0.1:8767/api.xro/2.0"}
INVOICE_ID = "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777"
#: the getInvoice answer of Xero's OpenAPI description, cut to what the recipes read
INVOICE = {"Type": "ACCREC", "InvoiceID": INVOICE_ID, "InvoiceNumber": "INV-0006", "Status": "PAID",
           "Contact": {"ContactID": "430fa14a-f945-44d3-9f97-5df5e28441b8", "Name": "Liam Gallagher"},
           "Payments": [{"PaymentID": "38928000-e9a0-420c-8884-f624bab2a351", "Amount": Decimal("148062.76")}],
           "Total": Decimal("148062.76"), "AmountDue": Decimal("0.00"), "AmountPaid": Decimal("148062.76"),
           "CurrencyCode": "NZD", "UpdatedDateUTC": "/Date(1551981568133+0000)/"}
ENVELOPE = {"Id": "516f400a-b764-4c88-831b-12d2b210fa24", "Status": "OK", "ProviderName": "ledgerlink",
            "DateTimeUTC": "/Date(1551981658323)/", "Invoices": [INVOICE]}


def notified(category: str = "INVOICE", kind: str = "UPDATE", tenant: str = TENANT, resource: str = INVOICE_ID):
    return webhook.parse({}, jsonio.dumps({"events": [{
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource}", "resourceId": resource,
        "eventDateUtc": "2026-11-24T17:30:00.123", "eventType": kind, "eventCategory": category,
        "tenantId": tenant, "tenantType": "ORGANISATION"}], "firstEventSequence": 1, "lastEventSequence": 1,
        "entropy": "E"}).encode())[0]


def trigger(name: str):
    return next(t for t in triggers.TRIGGERS if t.name == name)


def test_an_invoice_update_is_read_whole_and_fits_its_schema():
    event = notified()
    done = drive(triggers.fetch(event.payload, context("xero", SETTINGS)), [ENVELOPE])
    (request,) = done.requests
    assert (request.method, request.url) == ("GET", f"http://127.0.0.1:8767/api.xro/2.0/Invoices/{INVOICE_ID}")
    assert request.params == {"unitdp": "4"}  # the organisation's header is added with the token
    assert done.value["data"] == INVOICE and done.value["entity_id"] == INVOICE_ID
    jsonschema.Draft202012Validator(trigger("xero.invoice.updated").event_schema).validate(done.value)
    assert done.value["data"]["AmountPaid"] == Decimal("148062.76")  # how a payment in Xero shows


@pytest.mark.parametrize(("category", "collection"), [("CONTACT", "Contacts"), ("CREDITNOTE", "CreditNotes")])
def test_contacts_and_credit_notes_are_read_from_their_own_collection(category, collection):
    event = notified(category, "CREATE", resource="55d84274-a3da-4829-a7c0-0cab601b95cc")
    entity = {"Contact": {"ContactID": "55d84274-a3da-4829-a7c0-0cab601b95cc", "Name": "Liam Gallagher"},
              "CreditNote": {"CreditNoteID": "55d84274-a3da-4829-a7c0-0cab601b95cc", "Type": "ACCRECCREDIT",
                             "Total": Decimal("40.00")}}[event.payload["entity_type"]]
    from ledgerlink_sandboxes.xero import spec

    assert spec.problems(collection, {collection: [entity]}) == []
    done = drive(triggers.fetch(event.payload, context("xero", SETTINGS)), [{collection: [entity]}])
    assert done.requests[0].url.endswith(f"/{collection}/55d84274-a3da-4829-a7c0-0cab601b95cc")
    jsonschema.Draft202012Validator(trigger(event.trigger).event_schema).validate(done.value)


def test_an_entity_xero_no_longer_has_plans_nothing():
    assert drive(triggers.fetch(notified().payload, context("xero", SETTINGS)),
                 [Response(404, text="The resource you're looking for cannot be found")]).value is None


def test_a_polled_event_carries_its_entity_and_is_not_read_again():
    payload = {**notified().payload, "via": "poll", "data": INVOICE}
    done = drive(triggers.fetch(payload, context("xero", SETTINGS)), [])
    assert done.requests == [] and done.value == payload


def test_another_organisations_event_is_refused_without_a_request():
    with pytest.raises(ConfigError, match='tenant_id = "aef86862') as refused:
        drive(triggers.fetch(notified(tenant="aef86862-2015-4b6b-88bc-d89032cecc50").payload,
                             context("xero", SETTINGS)), [])
    assert "aef86862" in refused.value.message


def test_a_throttled_read_is_retried_later_and_an_answer_without_the_entity_fails():
    throttled = Response(429, headers={"Retry-After": "7", "X-Rate-Limit-Problem": "minute"}, text="")
    with pytest.raises(VendorError) as later:
        drive(triggers.fetch(notified().payload, context("xero", SETTINGS)), [throttled])
    assert (later.value.kind, later.value.retry_after) == ("retry", 7.0)
    with pytest.raises(EventError, match="without the Invoice"):
        drive(triggers.fetch(notified().payload, context("xero", SETTINGS)), [{"Invoices": []}])


def test_every_trigger_is_registered_with_its_fetch_and_source_id():
    names = sorted(t.name for t in triggers.TRIGGERS)
    assert names == [f"xero.{e}.{o}" for e in ("contact", "credit_note", "invoice") for o in ("created", "updated")]
    for registered in triggers.TRIGGERS:
        assert registered.fetch is triggers.fetch and registered.source_id_path == "$.entity_id"
        jsonschema.Draft202012Validator(registered.event_schema).validate(registered.sample)


#: what Xero's answers carry around the collection, which its description of them leaves out
#: (its own getInvoice example shows them)
ENVELOPE_KEYS = ("Id", "Status", "ProviderName", "DateTimeUTC")


def test_the_answers_here_and_every_sample_are_xeros_own_shapes():
    """Checked against Xero's OpenAPI made strict (a misspelt field fails), as the sandbox checks."""
    from ledgerlink_sandboxes.xero import spec

    assert spec.problems("Invoices", {k: v for k, v in ENVELOPE.items() if k not in ENVELOPE_KEYS}) == []
    for registered in triggers.TRIGGERS:
        assert spec.problems(registered.sample["entity_type"], registered.sample["data"]) == [], registered.name
    assert spec.problems("Invoice", {**INVOICE, "AmountPayd": Decimal("1")}) != []  # the check can fail
