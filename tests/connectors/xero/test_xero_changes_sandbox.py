"""Xero's triggers against the Xero sandbox over loopback HTTP: a notification's entity read
through the connector's client with the connection's headers, the poll's listings from a cursor,
and a delivery through the host from acknowledgement to planned run."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import jsonschema
import pytest

import ledgerlink_xero
from ledgerlink import jsonio
from ledgerlink.testing import HttpSender, drive
from ledgerlink.testing.actions import context, poll
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from ledgerlink_xero import triggers, webhook

CONNECTOR = ledgerlink_xero.CONNECTOR


@pytest.fixture
def now() -> list[float]:
    """The sandbox's clock (seconds since it started): a test moves it."""
    return [1000.0]


@pytest.fixture
def xero(now):
    with running(create_sandbox(clock=lambda: now[0], wall_clock=lambda: 1_790_000_000.0 + now[0])) as served:
        yield served


@pytest.fixture
def send():
    """Sends as the host does: the connector's own auth headers (token and organisation)."""
    with httpx.Client() as client:
        yield HttpSender(client, CONNECTOR.auth({"access_token": DEFAULT_ACCESS_TOKEN, "tenant_id": DEFAULT_TENANT}))


def put(xero, collection: str, element: dict, method: str = "PUT") -> dict:
    answer = httpx.request(method, f"{xero.url}/api.xro/2.0/{collection}", content=jsonio.dumps({collection: [element]}),
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



def test_the_poll_lists_the_sandboxs_changes_and_then_only_the_later_ones(xero, send, now):
    ctx = context("xero", {"tenant_id": DEFAULT_TENANT, "api_base": f"{xero.url}/api.xro/2.0",
                           "poll_since": "2026-01-01T00:00:00Z"})
    acme = put(xero, "Contacts", {"Name": "Acme", "ContactNumber": "cus_1"})
    invoice = put(xero, "Invoices", {"Type": "ACCREC", "Contact": {"ContactID": acme["ContactID"]},
                                     "Date": "2026-11-02", "Status": "AUTHORISED",
                                     "LineItems": [{"Description": "Plan", "Quantity": 1, "UnitAmount": Decimal("9.99"),
                                                    "AccountCode": "200", "TaxType": "NONE"}]})
    events, cursor, done = poll(CONNECTOR, None, ctx, send)
    assert [r.url.rsplit("/", 1)[1] for r in done.requests] == ["Invoices", "Contacts", "CreditNotes"]
    assert sorted((e.trigger, e.payload["entity_id"]) for e in events) == sorted([
        ("xero.invoice.updated", invoice["InvoiceID"]), ("xero.contact.updated", acme["ContactID"])])
    now[0] += 120  # two minutes later the contact changes, and nothing else
    put(xero, "Contacts", {"ContactID": acme["ContactID"], "EmailAddress": "ap@acme.test"}, method="POST")
    later, _, _ = poll(CONNECTOR, cursor, ctx, send)
    # the poll asks from a minute before Xero's clock (DateTimeUTC) said: the invoice, changed
    # within that minute, is listed again as the same event (stored once); the contact is new
    seen = {e.id for e in events}
    assert [e.id for e in later if e.trigger == "xero.invoice.updated"] == \
        [e.id for e in events if e.trigger == "xero.invoice.updated"]
    new = [e for e in later if e.id not in seen]
    assert [(e.trigger, e.payload["data"]["EmailAddress"]) for e in new] == [("xero.contact.updated", "ap@acme.test")]
    first = next(e for e in events if e.trigger == "xero.contact.updated")
    assert new[0].payload["version"] != first.payload["version"]  # a new state: recipes run again
    now[0] += 120  # two minutes on, nothing changed: nothing is listed
    assert poll(CONNECTOR, poll(CONNECTOR, cursor, ctx, send)[1], ctx, send)[0] == []


# --- through the host: acknowledged empty, stored, fetched from the sandbox, planned -------------

KEY = "xero-webhook-key-for-the-runtime-test"
RECIPE = {
    "id": "xero-invoice-contact", "version": 1,
    "description": "Each invoice created in Xero above 10 finds its contact.",
    "trigger": {"event": "xero.invoice.created", "connection": "xero",
                "filter": {"path": "$.event.data.Total", "gt": 10}},
    "steps": [{"id": "contact", "action": "xero.find_contact", "connection": "xero",
               "input": {"source_id": {"$path": "$.event.data.Contact.ContactID"},
                         "Name": {"$path": "$.event.data.Contact.Name"}}}],
}


def runtime_on(xero, tmp_path, monkeypatch):
    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.testing.databases import migrated_db

    monkeypatch.setenv("LL_TEST_XERO_TOKEN", DEFAULT_ACCESS_TOKEN)
    monkeypatch.setenv("LL_TEST_XERO_WEBHOOK_KEY", KEY)
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f'[connections.xero]\nconnector = "xero"\ntenant_id = "{DEFAULT_TENANT}"\n'
                      f'api_base = "{xero.url}/api.xro/2.0"\naccess_token = "${{LL_TEST_XERO_TOKEN}}"\n'
                      f'webhook_key = "${{LL_TEST_XERO_WEBHOOK_KEY}}"\n')
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "contact.json").write_text(json.dumps(RECIPE))
    return build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config))


def test_a_delivery_is_acknowledged_empty_then_each_invoice_is_fetched_and_planned(xero, tmp_path, monkeypatch):
    from ledgerlink.engine.worker import Worker
    from ledgerlink.web.app import create_app

    runtime = runtime_on(xero, tmp_path, monkeypatch)
    acme = put(xero, "Contacts", {"Name": "Acme", "ContactNumber": "cus_1"})
    lines = [{"Description": "Plan", "Quantity": 1, "AccountCode": "200", "TaxType": "NONE"}]
    big, small = (put(xero, "Invoices", {"Type": "ACCREC", "Contact": {"ContactID": acme["ContactID"]},
                                         "Date": "2026-11-02", "Status": "AUTHORISED",
                                         "LineItems": [{**lines[0], "UnitAmount": amount}]})
                  for amount in (Decimal("12.35"), Decimal("5.00")))
    items = [{"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource}", "resourceId": resource,
              "eventDateUtc": "2026-11-24T17:30:00.123", "eventType": "CREATE", "eventCategory": "INVOICE",
              "tenantId": DEFAULT_TENANT, "tenantType": "ORGANISATION"}
             for resource in (big["InvoiceID"], small["InvoiceID"], "00000000-0000-0000-0000-000000000042")]
    body = json.dumps({"events": items, "firstEventSequence": 1, "lastEventSequence": 3, "entropy": "E"}).encode()
    client = create_app(runtime=runtime).test_client()
    answer = client.post("/webhooks/xero", data=body, headers={**webhook.sign(body, {"webhook_key": KEY}, 0.0)})
    assert (answer.status_code, answer.get_data()) == (200, b"")
    assert runtime.store.fetch_counts() == {"pending": 3}  # stored; nothing read from Xero yet
    worker = Worker(runtime)
    for claimed in runtime.store.claim_fetches(worker.name, 60, 3):
        worker.fetch(claimed)
    # the small invoice was read and filtered out; the unknown one is gone
    assert runtime.store.fetch_counts() == {"done": 2, "gone": 1}
    assert runtime.store.counts() == {"pending": 1}
    [run] = runtime.store.list_runs()
    event = jsonio.loads(runtime.store.event(run["event_pk"])["payload"])
    assert (event["entity_id"], event["data"]["Total"]) == (big["InvoiceID"], Decimal("12.35"))
    runtime.close()
