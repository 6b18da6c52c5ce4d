"""Xero's triggers against the Xero sandbox over loopback HTTP: a notification's entity read
through the connector's client with the connection's headers."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import jsonschema
import pytest

import ledgerlink_xero
from ledgerlink import jsonio
from ledgerlink.testing import HttpSender, drive
from ledgerlink.testing.actions import context
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from ledgerlink_xero import triggers, webhook

CONNECTOR = ledgerlink_xero.CONNECTOR


@pytest.fixture
def xero():
    now = [1000.0]
    with running(create_sandbox(clock=lambda: now[0], wall_clock=lambda: 1_790_000_000.0 + now[0])) as served:
        yield served


@pytest.fixture
def send():
    """Sends as the host does: the connector's own auth headers (token and organisation)."""
    with httpx.Client() as client:
        yield HttpSender(client, CONNECTOR.auth({"access_token": DEFAULT_ACCESS_TOKEN, "tenant_id": DEFAULT_TENANT}))


def put(xero, collection: str, element: dict) -> dict:
    answer = httpx.put(f"{xero.url}/api.xro/2.0/{collection}", content=jsonio.dumps({collection: [element]}),
                       params={"summarizeErrors": "false", "unitdp": "4"},
                       headers={"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}", "xero-tenant-id": DEFAULT_TENANT,
                                "Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    element = jsonio.loads(answer.content)[collection][0]
    assert element.get("StatusAttributeString", "OK") == "OK", element
    return element


def notification(category: str, kind: str, resource: str) -> dict:
    body = json.dumps({"events": [{
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/X/{resource}", "resourceId": resource,
        "eventDateUtc": "2026-11-24T17:30:00.123", "eventType": kind, "eventCategory": category,
        "tenantId": DEFAULT_TENANT, "tenantType": "ORGANISATION"}],
        "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "E"}).encode()
    (event,) = webhook.parse({}, body)
    return event


def test_a_notified_invoice_and_contact_are_read_whole_from_the_sandbox(xero, send):
    ctx = context("xero", {"tenant_id": DEFAULT_TENANT, "api_base": f"{xero.url}/api.xro/2.0"})
    acme = put(xero, "Contacts", {"Name": "Acme", "ContactNumber": "cus_1"})
    invoice = put(xero, "Invoices", {"Type": "ACCREC", "Contact": {"ContactID": acme["ContactID"]},
                                     "Date": "2026-11-02", "Status": "AUTHORISED",
                                     "LineItems": [{"Description": "Plan", "Quantity": 1, "UnitAmount": Decimal("12.3456"),
                                                    "AccountCode": "200", "TaxType": "NONE"}]})
    for event, entity in ((notification("INVOICE", "CREATE", invoice["InvoiceID"]), invoice),
                          (notification("CONTACT", "UPDATE", acme["ContactID"]), acme)):
        fetched = drive(triggers.fetch(event.payload, ctx), send).value
        id_field = triggers.ID_FIELDS[event.payload["entity_type"]]
        assert fetched["data"][id_field] == entity[id_field]
        jsonschema.Draft202012Validator(
            next(t for t in triggers.TRIGGERS if t.name == event.trigger).event_schema).validate(fetched)
    read = drive(triggers.fetch(notification("INVOICE", "UPDATE", invoice["InvoiceID"]).payload, ctx), send).value
    assert read["data"]["LineItems"][0]["UnitAmount"] == Decimal("12.3456")  # read with unitdp=4
    assert read["data"]["Total"] == Decimal("12.35")


def test_an_invoice_the_sandbox_does_not_have_is_gone(xero, send):
    ctx = context("xero", {"tenant_id": DEFAULT_TENANT, "api_base": f"{xero.url}/api.xro/2.0"})
    missing = notification("INVOICE", "UPDATE", "00000000-0000-0000-0000-000000000042")
    assert drive(triggers.fetch(missing.payload, ctx), send).value is None

