"""FreshBooks' callbacks read by the connector: every signature vector, the handshake, the events."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

import ledgerlink_freshbooks
from ledgerlink.contract.subscriptions import PENDING, SIGNING
from ledgerlink.errors import EventError, SignatureError
from ledgerlink_freshbooks import webhook
from vendor_files import FRESHBOOKS

VECTORS = json.loads((FRESHBOOKS / "webhook-signature-vectors.json").read_text("utf-8"))["vectors"]
FORM = {"Content-Type": webhook.FORM}


def test_the_connector_declares_form_deliveries_a_handshake_and_its_subscriptions():
    hook = ledgerlink_freshbooks.CONNECTOR.webhook
    assert hook is webhook.WEBHOOK and hook.content_types == (webhook.FORM,)
    assert hook.tenant_setting == "account_id" and hook.subscriptions is not None
    assert set(hook.subscriptions.events) == {t.name for t in ledgerlink_freshbooks.triggers.TRIGGERS}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["event"].split(" ")[0] for v in VECTORS])
def test_every_vector_is_signed_over_json_dumps_of_the_fields_and_verifies(vector):
    body = vector["form_body"].encode()
    pairs = webhook.fields(body)
    assert webhook.signed_text(pairs) == vector["json_string_signed"]
    assert webhook.signature(pairs, vector["verifier"]) == vector["x_freshbooks_hmac_sha256"]
    secrets = {SIGNING + "2001": "another-callbacks-verifier", SIGNING + "2002": vector["verifier"]}
    webhook.verify({webhook.HEADER: vector["x_freshbooks_hmac_sha256"]}, body, secrets, 0.0)
    assert webhook.sign(body, {SIGNING + "1": vector["verifier"]}, 0.0)[webhook.HEADER] == \
        vector["x_freshbooks_hmac_sha256"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["event"].split(" ")[0] for v in VECTORS])
def test_a_vector_is_refused_when_anything_differs(vector):
    body, sent = vector["form_body"].encode(), vector["x_freshbooks_hmac_sha256"]
    confirmed = {SIGNING + "2001": vector["verifier"]}
    with pytest.raises(SignatureError, match="matches none"):  # another verifier
        webhook.verify({webhook.HEADER: sent}, body, {SIGNING + "2001": "not-the-verifier"}, 0.0)
    with pytest.raises(SignatureError, match="matches none"):  # one field changed
        webhook.verify({webhook.HEADER: sent}, body.replace(b"object_id=", b"object_id=9"), confirmed, 0.0)
    with pytest.raises(SignatureError, match="matches none"):  # the raw body's HMAC is not FreshBooks'
        import base64
        import hashlib
        import hmac
        raw = base64.b64encode(hmac.new(vector["verifier"].encode(), body, hashlib.sha256).digest()).decode()
        webhook.verify({webhook.HEADER: raw}, body, confirmed, 0.0)
    with pytest.raises(SignatureError, match="no X-FreshBooks-Hmac-SHA256"):
        webhook.verify({}, body, confirmed, 0.0)
    with pytest.raises(SignatureError, match="no confirmed callback"):  # a pending verifier signs nothing
        webhook.verify({webhook.HEADER: sent}, body, {PENDING + "2001": vector["verifier"]}, 0.0)


def test_the_fields_keep_their_order_and_non_ascii_is_escaped_as_python_writes_it():
    pairs = webhook.fields("name=client.update&object_id=7&organization=Caf%C3%A9+%26+Co".encode())
    assert webhook.signed_text(pairs) == '{"name": "client.update", "object_id": "7", "organization": "Caf\\u00e9 & Co"}'
    with pytest.raises(EventError, match="repeated"):
        webhook.fields(b"name=a&name=b")
    with pytest.raises(EventError, match="form-encoded"):
        webhook.fields(b"\xff\xfe")


def test_the_verification_post_is_a_handshake_and_an_event_is_not():
    shake = webhook.handshake(FORM, b"name=callback.verify&object_id=2001&verifier=abc123")
    assert (shake.subscription, shake.secret) == ("2001", "abc123")
    assert webhook.handshake(FORM, VECTORS[1]["form_body"].encode()) is None
    with pytest.raises(EventError, match="object_id"):
        webhook.handshake(FORM, b"name=callback.verify&verifier=abc123")


def test_a_payment_creation_is_one_event_of_its_business_whatever_the_delivery():
    body = VECTORS[1]["form_body"].encode()
    (event,) = webhook.parse(FORM, body)
    assert (event.id, event.trigger, event.tenant) == ("6BApk:payment.create:235435", "freshbooks.payment.created",
                                                       "6BApk")
    assert event.payload["object_id"] == "235435" and event.payload["data"] is None
    assert event.payload["delivery"]["business_id"] == "6543"
    assert webhook.parse(FORM, body)[0].id == event.id  # a redelivery is the same event


def test_each_update_delivery_is_an_event_of_its_own():
    body = urlencode({"name": "invoice.update", "object_id": "987654", "account_id": "6BApk"}).encode()
    first = webhook.notice("6BApk", "invoice", "987654", "updated", "callback", received=1.0)
    second = webhook.notice("6BApk", "invoice", "987654", "updated", "callback", received=2.0)
    assert first.id != second.id and first.trigger == "freshbooks.invoice.updated"
    assert webhook.parse(FORM, body)[0].trigger == "freshbooks.invoice.updated"


@pytest.mark.parametrize("body, pointer", [
    (b"object_id=1&account_id=6BApk", "/name"),
    (b"name=payment.create&account_id=6BApk", "/object_id"),
    (b"name=payment.create&object_id=1", "/account_id"),
    (b"name=payment.explode&object_id=1&account_id=6BApk", "/name"),
    (b"name=payment.create&object_id=1%3B2&account_id=6BApk", "/object_id"),
])
def test_a_delivery_that_is_not_a_freshbooks_event_is_refused_with_where(body, pointer):
    with pytest.raises(EventError) as refused:
        webhook.parse(FORM, body)
    assert refused.value.details["pointer"] == pointer


def test_the_example_deliveries_are_freshbooks_forms_and_a_redelivered_payment_is_one_event():
    from ledgerlink_freshbooks import examples

    delivered = [(label, body) for label, body in examples.examples()]
    parsed = {label: webhook.parse({}, body) for label, body in delivered}
    assert all(len(events) == 1 and events[0].tenant == examples.ACCOUNT_ID for events in parsed.values())
    assert all([name for name, _ in webhook.fields(body)] == ["name", "object_id", "account_id", "business_id",
                                                              "identity_id", "user_id"] for _, body in delivered)
    payments = [events[0].id for events in parsed.values() if events[0].trigger == "freshbooks.payment.created"]
    assert len(payments) == 2 and len(set(payments)) == 1  # FreshBooks' retry is stored once
    verifier = "example-verifier"
    body = delivered[0][1]
    headers = webhook.sign(body, {SIGNING + "1": verifier}, 0.0)
    webhook.verify(headers, body, {SIGNING + "1": verifier}, 0.0)
