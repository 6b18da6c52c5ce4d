"""Xero's webhooks from the sandbox: Intent to Receive, and id-only events for every change
(https://developer.xero.com/documentation/guides/webhooks/overview/, …/configuring-your-server/).

- Signature: ``x-xero-signature`` = base64(HMAC-SHA256(key = the webhook key as UTF-8, message =
  the raw body)), on the kit's :func:`~ledgerlink.testing.sandbox_webhooks.hmac_signature`.
- Intent to Receive (:func:`intent_to_receive`): Xero posts ``{"events": [], "firstEventSequence":
  0, "lastEventSequence": 0, "entropy": "…"}`` several times, some correctly signed and some not;
  the endpoint passes when it answers every good one 200 with an empty body and every bad one 401,
  each within 5 seconds (here: ``GOOD_AND_BAD``, in that order).
- Events (:class:`Notifier`): a created or updated contact, invoice or credit note, and a payment
  or allocation (an UPDATE of its invoice: Xero has no payment category), becomes one event
  ``{resourceUrl, resourceId, eventDateUtc, eventType, eventCategory, tenantId, tenantType}``
  delivered in order through the kit's emitter, retried until acknowledged.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from typing import Any

import httpx

from ledgerlink import jsonio
from ledgerlink.testing.sandbox_webhooks import WebhookEmitter, hmac_signature

API = "https://api.xero.com/api.xro/2.0"
#: the Intent to Receive posts, in order: True = correctly signed
GOOD_AND_BAD = (True, False, True, False)
CATEGORIES = {"Contacts": "CONTACT", "Invoices": "INVOICE", "CreditNotes": "CREDITNOTE"}


def signature(key: str, body: bytes) -> str:
    return hmac_signature(key, body, "base64")


def intent_to_receive(url: str, key: str, timeout: float = 5.0) -> dict[str, Any]:
    """Run Xero's Intent to Receive against ``url``: each post, the status it wanted and got,
    and ``"passed"``."""
    posts = []
    with httpx.Client(timeout=timeout) as client:
        for good in GOOD_AND_BAD:
            body = jsonio.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                                 "entropy": secrets.token_hex(10).upper()}).encode()
            signed = signature(key if good else key + "-wrong", body)
            try:
                answer = client.post(url, content=body, headers={"x-xero-signature": signed,
                                                                 "Content-Type": "application/json"})
                status, empty = answer.status_code, answer.content == b""
            except httpx.HTTPError:
                status, empty = None, False
            wanted = 200 if good else 401
            posts.append({"signed": good, "wanted": wanted, "status": status,
                          "ok": status == wanted and (empty or not good)})
    return {"posts": posts, "passed": all(post["ok"] for post in posts)}


class Notifier:
    """Sends every change of an organisation as a signed event (see the module docstring)."""

    def __init__(self, url: str, key: str, retry_schedule: tuple[float, ...] = (1.0, 5.0, 30.0)) -> None:
        self.key = key
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self.emitter: WebhookEmitter[dict[str, Any]] = WebhookEmitter(
            url, self._render, lambda body: {"x-xero-signature": signature(key, body)},
            batch=10, retry_schedule=retry_schedule, ack_seconds=5.0)

    def _render(self, events: list[dict[str, Any]]) -> bytes:
        return jsonio.dumps({"events": [event["event"] for event in events],
                             "firstEventSequence": events[0]["sequence"],
                             "lastEventSequence": events[-1]["sequence"],
                             "entropy": secrets.token_hex(10).upper()}).encode()

    def changed(self, tenant_id: str, collection: str, resource_id: str, created: bool, wall: float) -> None:
        """Queue the event of a change to ``collection``/``resource_id``."""
        category = CATEGORIES.get(collection)
        if category is None:
            return
        with self._lock:
            sequence = next(self._sequence)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + f".{int(wall * 1000) % 1000:03d}"
        self.emitter.notify({"sequence": sequence, "event": {
            "resourceUrl": f"{API}/{collection}/{resource_id}", "resourceId": resource_id,
            "eventDateUtc": stamp, "eventType": "CREATE" if created else "UPDATE",
            "eventCategory": category, "tenantId": tenant_id, "tenantType": "ORGANISATION"}})

    def pending(self) -> int:
        return self.emitter.pending()

    def stop(self) -> None:
        self.emitter.stop()


__all__ = ["API", "CATEGORIES", "GOOD_AND_BAD", "Notifier", "intent_to_receive", "signature"]
