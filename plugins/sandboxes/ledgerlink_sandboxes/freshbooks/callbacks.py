"""FreshBooks' webhook callbacks from the sandbox: registration, the verification handshake,
and a signed form POST for every change (https://www.freshbooks.com/api/webhooks).

``/events/account/{account_id}/events/callbacks`` (the events API answers its errors as
``{"errno", "message"[, "details"]}``, :func:`.errors.events`):

- ``POST {"callback": {"event", "uri"}}`` registers a callback, ``verified: false``. ``event`` is
  one of :data:`EVENTS` or a noun alone (``invoice``: every invoice event); ``uri`` an absolute
  http(s) URL; else 422 with a ``details`` line per field, as
  create_callback_response__validation_error.json shows. FreshBooks then POSTs to the URI a
  form ``name=callback.verify&object_id=<callbackid>&verifier=<code>`` (the field names of the
  Python SDK guide's and a 2018 gist's receivers);
- ``PUT …/<callbackid> {"callback": {"verifier": "<code>"}}`` verifies it (a wrong code: 422),
  ``{"callback": {"resend": true}}`` sends the same code again;
- ``GET`` lists (``callbacks``, paged as every list) or reads one; ``DELETE`` answers 204.

Every change to a client, invoice, payment, credit note, expense, item or tax of the account
is then POSTed to each verified callback whose event matches, form-encoded, in this order:
``name`` (``invoice.create``), ``object_id``, ``account_id``, ``business_id``, ``identity_id``,
``user_id``; signed ``X-FreshBooks-Hmac-SHA256`` = base64(HMAC-SHA256(key = the verifier,
message = ``json.dumps`` of those fields as strings, Python's default separators)) — not
the raw body. The verification POST is signed the same way, with its own code. A POST not
answered 2xx is sent again on the sandbox's ``callback_retry_seconds`` schedule until it is
(FreshBooks documents neither its retries nor its order; the sandbox keeps each callback's
events in order, one at a time).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ledgerlink.testing.sandbox import Reply, SandboxClock
from ledgerlink.testing.sandbox_webhooks import WebhookEmitter, hmac_signature

from . import errors

HEADER = "X-FreshBooks-Hmac-SHA256"
#: collection → the noun of its events
NOUNS = {"clients": "client", "invoices": "invoice", "payments": "payment", "credit_notes": "credit_note",
         "expenses": "expense", "items": "item", "taxes": "tax"}
#: the events a callback may name (https://www.freshbooks.com/api/webhooks, "Supported events")
EVENTS = frozenset(f"{noun}.{verb}" for noun in NOUNS.values() for verb in ("create", "update", "delete")) | {
    "invoice.sendByEmail", "estimate.create", "estimate.update", "estimate.delete", "estimate.sendByEmail",
    "category.create", "category.update", "category.delete", "project.create", "project.update",
    "project.delete", "recurring.create", "recurring.update", "recurring.delete", "time_entry.create",
    "time_entry.update", "time_entry.delete", "bill.create", "bill.update", "bill.delete"}
NOUN_EVENTS = frozenset(event.split(".")[0] for event in EVENTS)


def signature(verifier: str, fields: Mapping[str, str]) -> str:
    """FreshBooks' signature of a callback POST's form ``fields`` (in the order sent)."""
    message = json.dumps({key: str(value) for key, value in fields.items()})
    return hmac_signature(verifier, message.encode("utf-8"), "base64")


def _uri_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "uri: Input should be a valid URL, relative URL without a base"
    return None


class Callbacks:
    """Every account's callbacks, and their deliveries (see the module docstring)."""

    def __init__(self, clock: SandboxClock, user: Mapping[str, Any], retry_schedule: tuple[float, ...]) -> None:
        self.clock = clock
        self.user = dict(user)
        self.retry_schedule = retry_schedule
        self._lock = threading.Lock()
        self._next = 2000
        self._callbacks: dict[int, dict[str, Any]] = {}
        self._emitters: dict[int, WebhookEmitter[dict[str, str]]] = {}
        self._verifiers: dict[int, str] = {}

    # --- the events API ---------------------------------------------------------------
    def public(self, callback: Mapping[str, Any]) -> dict[str, Any]:
        return {key: callback[key] for key in ("callbackid", "verified", "uri", "event", "updated_at")}

    def of(self, account_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self._callbacks.values() if c["account_id"] == account_id]

    def get(self, account_id: str, number: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._callbacks.get(int(number)) if number.isdigit() else None
        return found if found is not None and found["account_id"] == account_id else None

    def create(self, account_id: str, business_id: int, fields: Mapping[str, Any]) -> Reply:
        event, uri = str(fields.get("event", "")), str(fields.get("uri", ""))
        details = []
        if event not in EVENTS and event not in NOUN_EVENTS:
            details.append("event: Value error, Unrecognized event.")
        uri_problem = _uri_problem(uri)
        if uri_problem:
            details.append(uri_problem)
        if details:
            return errors.events(422, errors.EVENTS_UNPROCESSABLE, details)
        with self._lock:
            self._next += 1
            number = self._next
            callback = {"callbackid": number, "verified": False, "uri": uri, "event": event,
                        "updated_at": self._now(), "account_id": account_id, "business_id": business_id}
            self._callbacks[number] = callback
            self._verifiers[number] = secrets.token_urlsafe(24)
            self._emitters[number] = WebhookEmitter(
                uri, lambda batch: urlencode(batch[0]).encode("ascii"), self._signer(number),
                content_type="application/x-www-form-urlencoded", retry_schedule=self.retry_schedule,
                ack_seconds=10.0)
        self._send_verifier(number)
        return self._answer(callback)

    def update(self, account_id: str, number: str, fields: Mapping[str, Any]) -> Reply:
        callback = self.get(account_id, number)
        if callback is None:
            return errors.events(404, errors.EVENTS_NOT_FOUND)
        if fields.get("resend") is True:
            self._send_verifier(callback["callbackid"])
            return self._answer(callback)
        verifier = fields.get("verifier")
        if not isinstance(verifier, str) or not secrets.compare_digest(verifier, self._verifiers[callback["callbackid"]]):
            return errors.events(422, errors.EVENTS_UNPROCESSABLE, ["verifier: Value error, Invalid verifier."])
        with self._lock:
            callback.update({"verified": True, "updated_at": self._now()})
        return self._answer(callback)

    def delete(self, account_id: str, number: str) -> Reply:
        callback = self.get(account_id, number)
        if callback is None:
            return errors.events(404, errors.EVENTS_NOT_FOUND)
        with self._lock:
            del self._callbacks[callback["callbackid"]]
            emitter = self._emitters.pop(callback["callbackid"])
        emitter.stop()
        return Reply(204, b"", "text/plain")

    def _answer(self, callback: Mapping[str, Any]) -> Reply:
        return Reply.json(200, {"response": {"result": {"callback": self.public(callback)}}})

    # --- deliveries -------------------------------------------------------------------
    def _now(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock.wall()))

    def _signer(self, number: int):  # type: ignore[no-untyped-def]
        def sign(body: bytes) -> dict[str, str]:
            fields = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
            secret = fields["verifier"] if fields.get("name") == "callback.verify" else self._verifiers[number]
            return {HEADER: signature(secret, fields)}
        return sign

    def _send_verifier(self, number: int) -> None:
        with self._lock:
            emitter = self._emitters.get(number)
            verifier = self._verifiers[number]
        if emitter is not None:
            emitter.notify({"name": "callback.verify", "object_id": str(number), "verifier": verifier})

    def changed(self, business: Any, collection: str, object_id: int, verb: str) -> None:
        """Queue the event of a change for every verified callback of the business that wants it."""
        noun = NOUNS.get(collection)
        if noun is None:
            return
        name = f"{noun}.{verb}"
        with self._lock:
            wanted = [(c["callbackid"], self._emitters.get(c["callbackid"])) for c in self._callbacks.values()
                      if c["account_id"] == business.account_id and c["verified"] and c["event"] in (name, noun)]
        for _number, emitter in wanted:
            if emitter is not None:
                emitter.notify({"name": name, "object_id": str(object_id), "account_id": business.account_id,
                                "business_id": str(business.business_id),
                                "identity_id": str(self.user["identity_id"]), "user_id": str(self.user["user_id"])})

    def verifier(self, number: int) -> str | None:
        """The code a callback was sent (for tests: what the receiver got)."""
        with self._lock:
            return self._verifiers.get(number)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {str(number): {**emitter.stats, "pending": emitter.pending()}
                    for number, emitter in self._emitters.items()}

    def reset(self) -> None:
        with self._lock:
            emitters = list(self._emitters.values())
            self._callbacks.clear()
            self._emitters.clear()
            self._verifiers.clear()
        for emitter in emitters:
            emitter.stop()


__all__ = ["Callbacks", "EVENTS", "HEADER", "NOUNS", "signature"]
