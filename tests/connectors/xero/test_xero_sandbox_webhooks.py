"""The Xero sandbox's webhooks over loopback HTTP: Intent to Receive, and signed id-only events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import httpx
from flask import Flask, Response, request

from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
from test_xero_sandbox_api import api

KEY = "xero-webhook-key-for-tests"


class Receiver:
    """An integrator's endpoint as Xero wants it: the signature checked before the body is read."""

    def __init__(self, honest: bool = True) -> None:
        self.honest = honest
        self.batches: list[dict] = []
        self.lock = threading.Lock()

    def app(self) -> Flask:
        app = Flask("receiver")
        app.sandbox = self  # type: ignore[attr-defined]

        @app.post("/xero")
        def xero() -> Response:
            body = request.get_data()
            wanted = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
            if self.honest and not hmac.compare_digest(wanted, request.headers.get("x-xero-signature", "")):
                return Response(b"", status=401)
            with self.lock:
                self.batches.append(json.loads(body))
            return Response(b"", status=200)

        return app


def test_intent_to_receive_passes_an_endpoint_that_checks_signatures_and_fails_one_that_does_not():
    with running(create_sandbox()) as xero:
        for honest, passed in ((True, True), (False, False)):
            receiver = Receiver(honest)
            with running(receiver.app()) as endpoint:
                result = httpx.post(f"{xero.url}/__sandbox/webhooks/intent",
                                    json={"url": f"{endpoint.url}/xero", "key": KEY}).json()
            assert result["passed"] is passed
            assert [(p["signed"], p["status"]) for p in result["posts"]] == [
                (True, 200), (False, 401 if honest else 200), (True, 200), (False, 401 if honest else 200)]
            assert all(b["events"] == [] and b["firstEventSequence"] == 0 for b in receiver.batches)


def wait_delivered(xero, deadline_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while xero.sandbox.stats()["webhooks_pending"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert xero.sandbox.stats()["webhooks_pending"] == 0


def test_every_change_is_one_signed_event_with_ids_only_and_a_payment_is_an_invoice_update():
    receiver = Receiver()  # refuses a wrong signature: the sandbox would retry and never finish
    with running(receiver.app()) as endpoint, \
            running(create_sandbox(webhook_url=f"{endpoint.url}/xero", webhook_key=KEY)) as xero:
        contact = api(xero, "PUT", "Contacts", {"Name": "Acme"}).json()["Contacts"][0]["ContactID"]
        invoice = api(xero, "PUT", "Invoices", {"Type": "ACCREC", "Contact": {"ContactID": contact},
                                                "Status": "AUTHORISED", "LineItems": [
                                                    {"Description": "x", "UnitAmount": 5, "AccountCode": "200"}]})
        invoice_id = invoice.json()["Invoices"][0]["InvoiceID"]
        api(xero, "PUT", "Payments", {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Amount": 1})
        wait_delivered(xero)
        xero.sandbox.set_webhooks(None, None)
    events = [event for batch in receiver.batches for event in batch["events"]]
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", contact), ("INVOICE", "CREATE", invoice_id), ("INVOICE", "UPDATE", invoice_id)]
    assert all(e["tenantId"] == DEFAULT_TENANT and e["tenantType"] == "ORGANISATION" for e in events)
    assert events[1]["resourceUrl"] == f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}"
    sequences = [(b["firstEventSequence"], b["lastEventSequence"]) for b in receiver.batches]
    assert sequences[0][0] == 1 and sequences[-1][1] == 3
