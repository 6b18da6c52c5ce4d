"""The FreshBooks sandbox's callbacks over loopback HTTP: registration, the verifier handshake,
signed form-encoded events, retries; the signature against FreshBooks' vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from urllib.parse import parse_qsl

import pytest
from flask import Flask, Response, request

from fb_sandbox import ACCOUNT, call, result, served
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.freshbooks import DEFAULT_BUSINESS_ID
from ledgerlink_sandboxes.freshbooks.callbacks import signature
from vendor_files import FRESHBOOKS

PYTHON = FRESHBOOKS / "freshbooks-python-sdk-fixtures"
VECTORS = json.loads((FRESHBOOKS / "webhook-signature-vectors.json").read_text("utf-8"))["vectors"]


def recorded(name: str) -> dict:
    return json.loads((PYTHON / name).read_text("utf-8"))


def freshbooks_signature(verifier: str, body: bytes) -> str:
    """The scheme as FreshBooks documents it, written here apart from the sandbox's code."""
    fields = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
    message = json.dumps(fields).encode()
    return base64.b64encode(hmac.new(verifier.encode(), message, hashlib.sha256).digest()).decode()


class Receiver:
    """A callback URI: keeps every POST (its form fields in order, and whether its signature
    held under the verifier it was sent), refusing the first ``fail`` of them with a 500."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.posts: list[tuple[list[tuple[str, str]], bool]] = []
        self.verifier: str | None = None
        self.lock = threading.Lock()

    def app(self) -> Flask:
        app = Flask("receiver")
        app.sandbox = self  # type: ignore[attr-defined]

        @app.post("/hook")
        def hook() -> Response:
            body = request.get_data()
            fields = parse_qsl(body.decode("ascii"), keep_blank_values=True)
            as_dict = dict(fields)
            with self.lock:
                if as_dict.get("name") == "callback.verify":
                    self.verifier = as_dict["verifier"]
                good = self.verifier is not None and hmac.compare_digest(
                    freshbooks_signature(self.verifier, body), request.headers.get("X-FreshBooks-Hmac-SHA256", ""))
                assert request.content_type == "application/x-www-form-urlencoded"
                self.posts.append((fields, good))
                if self.fail:
                    self.fail -= 1
                    return Response(b"", status=500)
            return Response(b"", status=200)

        return app

    def names(self) -> list[str]:
        with self.lock:
            return [dict(fields)["name"] for fields, _good in self.posts]


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition()


def register(loop, uri: str, event: str = "invoice.create"):
    return call(loop, "POST", "events/callbacks", {"callback": {"event": event, "uri": uri}}, family="events")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["event"].split()[0] for v in VECTORS])
def test_the_signature_is_freshbooks_over_json_dumps_of_the_form(vector):
    fields = dict(parse_qsl(vector["form_body"]))
    assert json.dumps(fields) == vector["json_string_signed"]
    assert signature(vector["verifier"], fields) == vector["x_freshbooks_hmac_sha256"]
    assert signature(vector["verifier"] + "x", fields) != vector["x_freshbooks_hmac_sha256"]


def test_register_verify_list_resend_and_delete_a_callback():
    receiver = Receiver()
    with running(receiver.app()) as endpoint, served() as (loop, _clock):
        created = result(register(loop, f"{endpoint.url}/hook"))["callback"]
        want = recorded("get_callback_response.json")["response"]["result"]["callback"]
        assert set(created) == set(want) and created["verified"] is False
        wait_for(lambda: receiver.names() == ["callback.verify"])
        fields, signed = receiver.posts[0]
        assert [name for name, _ in fields] == ["name", "object_id", "verifier"] and signed
        assert dict(fields)["object_id"] == str(created["callbackid"])
        wrong = call(loop, "PUT", f"events/callbacks/{created['callbackid']}", {"callback": {"verifier": "nope"}},
                     family="events")
        assert wrong.status_code == 422 and wrong.json()["errno"] == 422
        verified = result(call(loop, "PUT", f"events/callbacks/{created['callbackid']}",
                               {"callback": {"verifier": receiver.verifier}}, family="events"))["callback"]
        assert verified["verified"] is True
        listed = result(call(loop, "GET", "events/callbacks", family="events"))
        assert set(listed) == set(recorded("list_callbacks_response.json")["response"]["result"])
        assert [c["callbackid"] for c in listed["callbacks"]] == [created["callbackid"]]
        result(call(loop, "PUT", f"events/callbacks/{created['callbackid']}", {"callback": {"resend": True}},
                    family="events"))
        wait_for(lambda: receiver.names() == ["callback.verify", "callback.verify"])
        assert dict(receiver.posts[1][0])["verifier"] == dict(receiver.posts[0][0])["verifier"]
        gone = call(loop, "DELETE", f"events/callbacks/{created['callbackid']}", family="events")
        assert gone.status_code == 204 and gone.content == b""
        missing = call(loop, "GET", f"events/callbacks/{created['callbackid']}", family="events")
        assert missing.status_code == 404 and missing.json() == recorded("get_callback_response__not_found.json")


def test_a_bad_event_and_a_relative_uri_are_refused_as_freshbooks_refuses_them():
    with served() as (loop, _clock):
        refused = register(loop, "/hook", event="invoice.explode")
        assert refused.status_code == 422
        assert refused.json() == recorded("create_callback_response__validation_error.json")
        misspelt = call(loop, "POST", "events/callbacks", {"callback": {"event": "invoice.create", "url": "x"}},
                        family="events")
        assert misspelt.status_code == 422 and any("url" in line for line in misspelt.json()["details"])


def test_a_verified_callback_gets_each_matching_change_signed_in_order_and_an_unverified_one_nothing():
    receiver, silent = Receiver(), Receiver()
    with running(receiver.app()) as endpoint, running(silent.app()) as other, served() as (loop, _clock):
        number = result(register(loop, f"{endpoint.url}/hook", event="invoice"))["callback"]["callbackid"]
        result(register(loop, f"{other.url}/hook", event="client.create"))
        wait_for(lambda: receiver.verifier is not None and silent.verifier is not None)
        result(call(loop, "PUT", f"events/callbacks/{number}", {"callback": {"verifier": receiver.verifier}},
                    family="events"))
        client = result(call(loop, "POST", "users/clients", {"client": {"email": "a@example.com"}}))["client"]
        bill = result(call(loop, "POST", "invoices/invoices", {"invoice": {
            "customerid": client["id"], "create_date": "2026-11-30",
            "lines": [{"name": "Plan", "qty": "1", "unit_cost": {"amount": "9.00"}}]}}))["invoice"]
        result(call(loop, "PUT", f"invoices/invoices/{bill['id']}", {"invoice": {"action_mark_as_sent": True}}))
        result(call(loop, "POST", "payments/payments", {"payment": {
            "invoiceid": bill["id"], "amount": {"amount": "9.00"}, "date": "2026-12-01", "type": "Cash"}}))
        wait_for(lambda: len(receiver.posts) == 4)
        events = [fields for fields, _good in receiver.posts[1:]]
        assert all(good for _fields, good in receiver.posts)
        assert [name for name, _ in events[0]] == ["name", "object_id", "account_id", "business_id", "identity_id",
                                                   "user_id"]
        # a payment updates its invoice: invoice.update follows it
        assert [(dict(e)["name"], dict(e)["object_id"]) for e in events] == [
            ("invoice.create", str(bill["id"])), ("invoice.update", str(bill["id"])),
            ("invoice.update", str(bill["id"]))]
        assert dict(events[0])["account_id"] == ACCOUNT and dict(events[0])["business_id"] == str(DEFAULT_BUSINESS_ID)
    assert silent.names() == ["callback.verify"]   # never verified: no client.create


def test_a_post_not_acknowledged_is_sent_again_until_it_is():
    receiver = Receiver(fail=2)
    with running(receiver.app()) as endpoint, served(callback_retry_seconds=[0]) as (loop, _clock):
        number = result(register(loop, f"{endpoint.url}/hook", event="client.create"))["callback"]["callbackid"]
        wait_for(lambda: receiver.verifier is not None)
        result(call(loop, "PUT", f"events/callbacks/{number}", {"callback": {"verifier": receiver.verifier}},
                    family="events"))
        result(call(loop, "POST", "users/clients", {"client": {"email": "a@example.com"}}))
        wait_for(lambda: receiver.names()[-1:] == ["client.create"] and loop.sandbox.stats()["callbacks"][
            str(number)]["pending"] == 0)
        stats = loop.sandbox.stats()["callbacks"][str(number)]
    assert receiver.names() == ["callback.verify"] * 3 + ["client.create"]
    assert (stats["failed_attempts"], stats["acknowledged"]) == (2, 2)
