"""Xero's webhooks: x-xero-signature against the vectors, verified before the body is read,
Intent to Receive answered by serve's app over loopback HTTP, deliveries read as events."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import ledgerlink_xero
from ledgerlink.errors import ConfigError, EventError, SignatureError
from ledgerlink.testing.actions import read_webhook, signed_headers
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web import servers
from ledgerlink.web.app import create_app
from ledgerlink_xero import webhook
from vendor_files import XERO

VECTORS = json.loads((XERO / "webhook-signature-vectors.json").read_text("utf-8"))
KEY = VECTORS["vectors"][0]["webhook_key"]
SECRETS = {"webhook_key": KEY}
TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
ITR = VECTORS["vectors"][1]["payload"].encode()
CONNECTOR = ledgerlink_xero.CONNECTOR


def body_of(n: int) -> bytes:
    return VECTORS["vectors"][n]["payload"].encode("utf-8")


# --- the signature ------------------------------------------------------------------------------

@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["payload_source"][:40])
def test_every_vector_verifies_and_is_signed_as_xero_signs_it(vector):
    body = vector["payload"].encode("utf-8")
    headers = {"x-xero-signature": vector["x_xero_signature"]}
    webhook.verify(headers, body, {"webhook_key": vector["webhook_key"]}, 0.0)
    assert webhook.sign(body, {"webhook_key": vector["webhook_key"]}, 0.0)["x-xero-signature"] == \
        vector["x_xero_signature"]


@pytest.mark.parametrize("case", VECTORS["negative_cases"], ids=lambda c: c["expect"][:30])
def test_a_signature_made_with_another_key_is_refused(case):
    with pytest.raises(SignatureError, match="does not match"):
        webhook.verify({"x-xero-signature": case["x_xero_signature"]}, case["payload"].encode(), SECRETS, 0.0)


def test_a_changed_body_a_missing_header_and_a_missing_key_are_each_refused():
    headers = {"x-xero-signature": VECTORS["vectors"][3]["x_xero_signature"]}
    pretty = json.dumps(json.loads(body_of(3))).encode()  # the same JSON, re-encoded
    with pytest.raises(SignatureError, match="does not match"):
        webhook.verify(headers, pretty, SECRETS, 0.0)
    with pytest.raises(SignatureError, match="no x-xero-signature header"):
        webhook.verify({}, body_of(3), SECRETS, 0.0)
    with pytest.raises(ConfigError, match="no webhook_key") as refused:
        webhook.verify(headers, body_of(3), {}, 0.0)
    assert KEY not in refused.value.message


def test_the_signature_is_checked_before_the_body_is_read():
    """A badly signed body that is not even JSON is a signature failure, never a parse one."""
    with pytest.raises(SignatureError):
        read_webhook(CONNECTOR, b"{not json", {"x-xero-signature": "AAAA"}, secrets=SECRETS)
    with pytest.raises(EventError):  # the same body, signed, is read, and refused as unreadable
        read_webhook(CONNECTOR, b"{not json", signed_headers(CONNECTOR, b"{not json", SECRETS), secrets=SECRETS)


# --- reading a delivery -------------------------------------------------------------------------

def test_an_intent_to_receive_holds_no_event_in_either_form():
    for n in (0, 1):  # its sequence numbers are 0, below the minimum Xero's description declares
        assert read_webhook(CONNECTOR, body_of(n), {"x-xero-signature": VECTORS["vectors"][n]["x_xero_signature"]},
                            secrets=SECRETS) == []


def test_an_invoice_update_is_an_event_of_its_tenant_under_a_stable_id():
    (event,) = read_webhook(CONNECTOR, body_of(3), {"x-xero-signature": VECTORS["vectors"][3]["x_xero_signature"]},
                            secrets=SECRETS)
    assert event.id == f"{TENANT}:INVOICE:717f2bfc-c6d4-41fd-b238-3f2f0c0cf777:UPDATE:2024-06-21T01:15:39.902Z"
    assert (event.trigger, event.tenant) == ("xero.invoice.updated", TENANT)
    assert {k: v for k, v in event.payload.items() if k != "notification"} == {
        "tenant_id": TENANT, "entity_type": "Invoice", "entity_id": "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777",
        "operation": "updated", "changed_at": "2024-06-21T01:15:39.902Z", "via": "webhook", "data": None}
    assert event.payload["notification"] == json.loads(body_of(3))["events"][0]
    again = webhook.parse({}, body_of(3))
    assert [e.id for e in again] == [event.id]  # a redelivery is the same event


def test_a_credit_note_creation_keeps_what_xero_said_of_it():
    (event,) = webhook.parse({}, body_of(2))
    assert (event.trigger, event.tenant) == ("xero.credit_note.created", "aef86862-2015-4b6b-88bc-d89032cecc50")
    assert event.payload["entity_type"] == "CreditNote"
    assert event.payload["notification"]["data"] == {"Type": "ACCPAYCREDIT", "Status": "DRAFT"}


def test_a_batch_of_several_tenants_and_categories_is_read_in_order():
    def item(category, kind, tenant, resource):
        return {"resourceUrl": f"https://api.xero.com/api.xro/2.0/X/{resource}", "resourceId": resource,
                "tenantId": tenant, "tenantType": "ORGANISATION", "eventCategory": category,
                "eventType": kind, "eventDateUtc": "2026-11-24T17:30:00.1"}
    body = json.dumps({"events": [item("CONTACT", "CREATE", "t-1", "c-1"), item("INVOICE", "CREATE", "t-2", "i-1"),
                                  item("SUBSCRIPTION", "UPDATE", "app-1", "s-1")],
                       "firstEventSequence": 5, "lastEventSequence": 7, "entropy": "E"}).encode()
    events = webhook.parse({}, body)
    assert [(e.trigger, e.tenant) for e in events] == [
        ("xero.contact.created", "t-1"), ("xero.invoice.created", "t-2"), ("xero.subscription.updated", "app-1")]
    assert events[0].payload["changed_at"] == "2026-11-24T17:30:00.100Z"


@pytest.mark.parametrize(("body", "pointer"), [
    (b'{"entropy": "x"}', "/events"),
    (b'[]', "/events"),
    (b'{"events": [{"resourceId": "r"}]}', "/events/0/resourceUrl"),
    (b'{"events": [{"resourceUrl": "u", "resourceId": "r", "eventDateUtc": "2026-01-01T00:00:00", '
     b'"eventType": "DELETE", "eventCategory": "INVOICE", "tenantId": "t", "tenantType": "ORGANISATION"}]}',
     "/events/0/eventType"),
    (b'{"events": [{"resourceUrl": "u", "resourceId": "r", "eventDateUtc": "yesterday", '
     b'"eventType": "CREATE", "eventCategory": "INVOICE", "tenantId": "t", "tenantType": "ORGANISATION"}]}',
     "/events/0/eventDateUtc"),
])
def test_a_delivery_xero_would_not_send_is_refused_with_its_pointer(body, pointer):
    with pytest.raises(EventError) as refused:
        webhook.parse({}, body)
    assert refused.value.details["pointer"] == pointer


# --- Intent to Receive through serve's app, over loopback HTTP ----------------------------------

@pytest.fixture
def serve(tmp_path: Path, monkeypatch):
    """serve's app on loopback with one Xero connection, whose API address answers nothing:
    a delivery is acknowledged without a request to Xero."""
    monkeypatch.setenv("LL_TEST_XERO_WEBHOOK_KEY", KEY)
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f'[connections.xero]\nconnector = "xero"\ntenant_id = "{TENANT}"\n'
                      f'api_base = "http://127.0.0.1:9/api.xro/2.0"\n'
                      f'webhook_key = "${{LL_TEST_XERO_WEBHOOK_KEY}}"\n')
    (tmp_path / "recipes").mkdir()
    app = create_app({"db": migrated_db(tmp_path), "recipes": str(tmp_path / "recipes"),
                      "config": str(config), "admin_token": "admin-token-for-xero-tests"})
    with servers.background(app, threads=4) as server, httpx.Client(base_url=server.url.rstrip("/")) as client:
        yield client, app.config["LEDGERLINK_RUNTIME"]
    app.config["LEDGERLINK_RUNTIME"].close()


def test_intent_to_receive_gets_200_empty_for_good_signatures_and_401_for_bad(serve):
    client, runtime = serve
    good = {"x-xero-signature": VECTORS["vectors"][1]["x_xero_signature"], "Content-Type": "application/json"}
    bad = {"x-xero-signature": VECTORS["negative_cases"][0]["x_xero_signature"], "Content-Type": "application/json"}
    for headers, status in ((good, 200), (bad, 401), (good, 200), (bad, 401), (good, 200)):
        answer = client.post("/webhooks/xero", content=ITR, headers=headers)
        assert answer.status_code == status
        if status == 200:
            assert (answer.content, answer.headers.get("set-cookie")) == (b"", None)
    pretty = {"x-xero-signature": VECTORS["vectors"][0]["x_xero_signature"], "Content-Type": "application/json"}
    assert client.post("/webhooks/xero", content=body_of(0), headers=pretty).content == b""
    assert runtime.store.count_events() == 0  # an empty batch stores nothing


def test_a_delivery_is_stored_once_and_acknowledged_empty_before_any_fetch(serve):
    client, runtime = serve
    headers = {"x-xero-signature": VECTORS["vectors"][3]["x_xero_signature"], "Content-Type": "application/json"}
    for _ in range(2):  # Xero redelivers until it gets its 200
        answer = client.post("/webhooks/xero", content=body_of(3), headers=headers)
        assert (answer.status_code, answer.content) == (200, b"")
    assert runtime.store.count_events() == 1
    forged = client.post("/webhooks/xero", content=body_of(3).replace(b"UPDATE", b"CREATE"), headers=headers)
    assert forged.status_code == 401 and runtime.store.count_events() == 1


def test_the_example_deliveries_are_xero_batches_each_event_naming_its_organisation():
    from ledgerlink_xero import examples

    parsed = {label: webhook.parse({}, body) for label, body in examples.examples()}
    assert parsed["Intent to Receive (an empty batch)"] == []
    (one, other) = parsed["one batch, two organisations (each on its own connection)"]
    assert (one.tenant, other.tenant) == (examples.TENANT, examples.OTHER_TENANT)
    again = [events[0].id for label, events in parsed.items() if "invoice updated" in label or "sent again" in label]
    assert len(again) == 2 and len(set(again)) == 1  # Xero's redelivery is stored once
    assert {e.trigger for events in parsed.values() for e in events} == {
        "xero.contact.created", "xero.contact.updated", "xero.invoice.created", "xero.invoice.updated",
        "xero.credit_note.created"}
