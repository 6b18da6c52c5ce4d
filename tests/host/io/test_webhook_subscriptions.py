"""Webhooks subscribed through a vendor's API, whose handshake teaches the signing secret.

The vendor is a loopback app that behaves as such vendors do: creating a subscription makes it
POST a fresh secret and the subscription's id to the subscribed address (form fields, as
FreshBooks does), and the subscription is verified only when that secret is sent back. The
connector, ``subscribed``, is registered as an extra plugin; ledgerlink serves on loopback.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from flask import Flask, jsonify, request

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.contract import Connector, Handshake, IncomingEvent, Request, Subscriptions, Trigger, Webhook
from ledgerlink.contract.subscriptions import PENDING, SIGNING
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.io.subscriptions import MAX_PENDING, learn, register
from ledgerlink.store import Store
from handshake_vendor import (FORM, handshake, post_handshake, served as serve, signed_form, subscription,
                              verify)


class Vendor:
    """Subscriptions with a handshake, on loopback."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict] = {}
        self.ids = itertools.count(101)
        self.created = 0
        self.deliver_handshakes = True
        self.app = Flask("vendor")
        self.app.add_url_rule("/subs", view_func=self.listing)
        self.app.add_url_rule("/subs", view_func=self.create, methods=["POST"], endpoint="create")
        self.app.add_url_rule("/subs/<sub>", view_func=self.confirm, methods=["PUT"])

    def listing(self):
        return jsonify([{k: v for k, v in s.items() if k != "secret"} for s in self.subscriptions.values()])

    def create(self):
        body = request.get_json()
        sub = {"id": str(next(self.ids)), "event": body["event"], "url": body["url"], "verified": False,
               "secret": secrets.token_hex(16)}
        self.subscriptions[sub["id"]] = sub
        self.created += 1
        if self.deliver_handshakes:  # from another thread, as the vendor's own servers would
            threading.Thread(target=post_handshake, args=(sub,)).start()
        return jsonify({k: v for k, v in sub.items() if k != "secret"})

    def confirm(self, sub):
        found = self.subscriptions[sub]
        found["verified"] = found["verified"] or request.get_json()["secret"] == found["secret"]
        return jsonify({k: v for k, v in found.items() if k != "secret"})


def _list(ctx):
    answer = yield Request("GET", f"{ctx.connection.settings['base_url']}/subs")
    return [subscription(i) for i in answer.json]


def _create(event, url, ctx):
    answer = yield Request("POST", f"{ctx.connection.settings['base_url']}/subs", json={"event": event, "url": url})
    return subscription(answer.json)


def _confirm(sub, secret, ctx):
    answer = yield Request("PUT", f"{ctx.connection.settings['base_url']}/subs/{sub.id}", json={"secret": secret})
    return subscription(answer.json)


def _parse(headers, body):
    fields = dict(parse_qsl(body.decode()))
    return [IncomingEvent(id=fields["id"], trigger="subscribed.thing.made", payload=fields)]


class Subscribed:
    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(
            name="subscribed", summary="A vendor whose webhooks are subscribed through its API (tests)",
            settings_schema={"type": "object", "properties": {"base_url": {"type": "string"}}},
            webhook=Webhook(verify=verify, parse=_parse, content_types=(FORM,), handshake=handshake,
                            subscriptions=Subscriptions(events={"subscribed.thing.made": "thing.made"},
                                                        list=_list, create=_create, confirm=_confirm))))

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(Trigger(name="subscribed.thing.made", summary="A thing was made (tests).",
                         event_schema={"type": "object"}, sample={"id": "1"}))


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(runtime, vendor, the address ledgerlink receives the connection's webhooks at)."""
    vendor = Vendor()
    with serve(tmp_path, monkeypatch, "subscribed", Subscribed(), vendor.app,
               lambda url: f'[connections.books]\nconnector = "subscribed"\nbase_url = "{url}"\n') as it:
        #: another process on the same database (the command, beside the server)
        it.runtime.other = lambda: Runtime(it.catalog, load_config(it.config, it.catalog), Store(it.db), None,
                                           Settings())
        yield it.runtime, vendor, f"{it.url}/webhooks/books"


def test_register_subscribes_confirms_the_handshake_and_keeps_the_secret_as_signing(served):
    runtime, vendor, url = served
    (done,) = register(runtime.connections, "books", url, {"subscribed.thing.made"}, wait=30)
    assert (done.done, done.subscription.event, done.subscription.verified) == ("confirmed", "thing.made", True)
    stored = runtime.connections.secret_box.get("books")
    secret = vendor.subscriptions[done.subscription.id]["secret"]
    assert stored == {SIGNING + done.subscription.id: secret}  # pending no more
    body, headers = signed_form({"id": "evt-1"}, secret)
    answer = httpx.post(url, content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text

    again = register(runtime.connections, "books", url, {"subscribed.thing.made"}, wait=30)
    assert [r.done for r in again] == ["kept"] and vendor.created == 1


def test_a_pending_secret_signs_nothing_and_a_forged_delivery_stores_nothing(served):
    runtime, _, url = served
    answer = httpx.post(url, content=urlencode({"verifier": "chosen-by-a-stranger", "object_id": "7"}),
                        headers={"Content-Type": FORM})
    assert answer.status_code == 200 and answer.json()["handshake"] == "7"
    assert runtime.connections.secret_box.get("books") == {PENDING + "7": "chosen-by-a-stranger"}
    body, headers = signed_form({"id": "evt-1"}, "chosen-by-a-stranger")
    answer = httpx.post(url, content=body, headers=headers)
    assert answer.status_code == 401, answer.text
    with runtime.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar() == 0


def test_json_is_refused_where_the_connector_declares_form_deliveries(served):
    _, _, url = served
    answer = httpx.post(url, json={"id": "evt-1"})
    assert answer.status_code == 415 and FORM in answer.json()["error"]["message"]


def test_a_handshake_that_never_comes_is_reported_waiting_and_confirmed_by_the_next_run(served):
    runtime, vendor, url = served
    vendor.deliver_handshakes = False
    clock = itertools.count(0.0, 1.0)
    (done,) = register(runtime.connections, "books", url, {"subscribed.thing.made"}, wait=5,
                       sleep=lambda s: None, clock=lambda: next(clock))
    assert done.done == "waiting" and not vendor.subscriptions[done.subscription.id]["verified"]
    post_handshake(vendor.subscriptions[done.subscription.id])  # a resend arrives later
    (again,) = register(runtime.connections, "books", url, {"subscribed.thing.made"}, wait=30)
    assert again.done == "confirmed" and vendor.created == 1


def test_pending_secrets_are_bounded(served):
    runtime, _, _ = served
    for n in range(MAX_PENDING + 5):
        learn(runtime.connections, "books", Handshake(str(n), f"secret-{n}"))
    stored = runtime.connections.secret_box.get("books")
    assert len(stored) == MAX_PENDING and PENDING + str(MAX_PENDING + 4) in stored and PENDING + "0" not in stored


def test_no_enabled_recipe_needing_a_subscription_is_a_clear_error(served):
    runtime, _, url = served
    with pytest.raises(Exception, match="no enabled recipe on connection 'books'"):
        register(runtime.connections, "books", url, set(), wait=1)


def test_a_subscription_confirmed_by_another_process_signs_at_once(served):
    runtime, vendor, url = served
    runtime.connections.secret_box.cache_seconds = 3600.0  # the server's cache would not see it
    vendor.deliver_handshakes = False
    command = runtime.other()
    clock = itertools.count(0.0, 1.0)
    try:
        (waiting,) = register(command.connections, "books", url, {"subscribed.thing.made"}, wait=1,
                              sleep=lambda s: None, clock=lambda: next(clock))
        post_handshake(vendor.subscriptions[waiting.subscription.id])
        secret = vendor.subscriptions[waiting.subscription.id]["secret"]
        assert runtime.connections.secrets("books") == {PENDING + waiting.subscription.id: secret}  # cached
        (done,) = register(command.connections, "books", url, {"subscribed.thing.made"}, wait=30)
    finally:
        command.close()
    assert done.done == "confirmed"
    body, headers = signed_form({"id": "evt-1"}, secret)
    answer = httpx.post(url, content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
