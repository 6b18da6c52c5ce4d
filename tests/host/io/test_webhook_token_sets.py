"""Webhook subscriptions of the connections on one token set: one address, secrets in one row.

One consent reaches two tenants of a vendor: connection ``books`` holds the tokens, ``books_b``
names it as its ``token_set`` and so has no stored row of its own. The vendor (on loopback)
keeps subscriptions per tenant; creating one makes it POST the subscription's secret to the
subscribed address (the handshake, which names no tenant, as FreshBooks' does), and signs each
delivery with that secret, the delivery naming its tenant. The connector, ``shared``, is
registered as an extra plugin; ledgerlink serves on loopback.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from urllib.parse import parse_qsl

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask, jsonify, request

from ledgerlink import hookimpl
from ledgerlink.contract import (Connector, IncomingEvent, OAuth2, Request, Subscriptions, Trigger, Webhook,
                                 signing_secrets)
from ledgerlink.contract.subscriptions import SIGNING
from ledgerlink.io.subscriptions import register
from ledgerlink.store.schema import events
from handshake_vendor import (FORM, handshake, post_handshake, served as serve, signed_form, subscription,
                              verify)

TOKEN = "access-token-of-the-set"
TRIGGER = "shared.thing.made"


class Vendor:
    """Per-tenant subscriptions with a handshake, and signed deliveries, on loopback."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict] = {}
        self.ids = itertools.count(101)
        self.app = Flask("vendor")
        self.app.add_url_rule("/t/<tenant>/subs", view_func=self.listing)
        self.app.add_url_rule("/t/<tenant>/subs", view_func=self.create, methods=["POST"], endpoint="create")
        self.app.add_url_rule("/t/<tenant>/subs/<sub>", view_func=self.confirm, methods=["PUT"])

    def _authorised(self) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    def listing(self, tenant):
        if not self._authorised():
            return jsonify(error="unauthorized"), 401
        return jsonify([self._public(s) for s in self.subscriptions.values() if s["tenant"] == tenant])

    def create(self, tenant):
        if not self._authorised():
            return jsonify(error="unauthorized"), 401
        body = request.get_json()
        sub = {"id": str(next(self.ids)), "tenant": tenant, "event": body["event"], "url": body["url"],
               "verified": False, "secret": secrets.token_hex(16)}
        self.subscriptions[sub["id"]] = sub
        threading.Thread(target=post_handshake, args=(sub,)).start()  # as the vendor's own servers would
        return jsonify(self._public(sub))

    def confirm(self, tenant, sub):
        found = self.subscriptions[sub]
        if not self._authorised() or found["tenant"] != tenant:
            return jsonify(error="not found"), 404
        found["verified"] = found["verified"] or request.get_json()["secret"] == found["secret"]
        return jsonify(self._public(found))

    def deliver(self, tenant: str, event_id: str) -> httpx.Response:
        """A delivery of the tenant's verified subscription, signed with its secret."""
        (sub,) = [s for s in self.subscriptions.values() if s["tenant"] == tenant and s["verified"]]
        body, headers = signed_form({"id": event_id, "tenant": tenant}, sub["secret"])
        return httpx.post(sub["url"], content=body, headers=headers)

    @staticmethod
    def _public(sub: dict) -> dict:
        return {k: v for k, v in sub.items() if k not in ("secret", "tenant")}


def _base(ctx) -> str:
    return f"{ctx.connection.settings['base_url']}/t/{ctx.connection.settings['tenant_id']}/subs"


def _list(ctx):
    answer = yield Request("GET", _base(ctx))
    return [subscription(i) for i in answer.json]


def _create(event, url, ctx):
    answer = yield Request("POST", _base(ctx), json={"event": event, "url": url})
    return subscription(answer.json)


def _confirm(sub, secret, ctx):
    answer = yield Request("PUT", f"{_base(ctx)}/{sub.id}", json={"secret": secret})
    return subscription(answer.json)


def _parse(headers, body):
    fields = dict(parse_qsl(body.decode()))
    return [IncomingEvent(id=fields["id"], trigger=TRIGGER, payload=fields, tenant=fields["tenant"])]


class Shared:
    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(
            name="shared", summary="A vendor whose one consent reaches several tenants (tests)",
            settings_schema={"type": "object", "properties": {
                name: {"type": "string"} for name in ("client_id", "base_url", "tenant_id")}},
            auth=lambda values: {"Authorization": f"Bearer {values['access_token']}"},
            oauth=OAuth2(authorize_url="https://login.vendor.example/authorize",
                         token_url="https://login.vendor.example/token"),
            webhook=Webhook(verify=verify, parse=_parse, content_types=(FORM,), handshake=handshake,
                            tenant_setting="tenant_id",
                            subscriptions=Subscriptions(events={TRIGGER: "thing.made"},
                                                        list=_list, create=_create, confirm=_confirm))))

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(Trigger(name=TRIGGER, summary="A thing was made (tests).",
                         event_schema={"type": "object"}, sample={"id": "1", "tenant": "t-1"}))


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(runtime, vendor, ledgerlink's address): ``books`` (tenant t-1) holds the tokens,
    ``books_b`` (tenant t-2) is on its token set."""
    vendor = Vendor()

    def config(url: str) -> str:
        return (f'[connections.books]\nconnector = "shared"\nclient_id = "app"\n'
                f'base_url = "{url}"\ntenant_id = "t-1"\n\n'
                f'[connections.books_b]\nconnector = "shared"\ntoken_set = "books"\n'
                f'client_id = "app"\nbase_url = "{url}"\ntenant_id = "t-2"\n')

    with serve(tmp_path, monkeypatch, "shared", Shared(), vendor.app, config) as it:
        it.runtime.connections.secret_box.put(
            "books", {"access_token": TOKEN, "refresh_token": "refresh", "access_expires_at": 4.0e9})
        yield it.runtime, vendor, it.url


def _stored(runtime) -> list[tuple[str, str]]:
    with runtime.store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(events.c.connection, events.c.event_id)).all())


def test_the_set_s_connections_share_one_address_and_each_event_lands_on_its_tenant_s(served):
    runtime, vendor, url = served
    address = f"{url}/webhooks/books"
    for name in ("books", "books_b"):
        (done,) = register(runtime.connections, name, address, {TRIGGER}, wait=30)
        assert done.done == "confirmed", (name, done)
    box = runtime.connections.secret_box
    assert box.status("books_b") is None  # a connection on another's token set has no row
    assert {sub["id"] for sub in vendor.subscriptions.values()} == set(signing_secrets(box.get("books")))
    for tenant, event_id in (("t-1", "evt-a"), ("t-2", "evt-b"), ("t-2", "evt-b")):
        answer = vendor.deliver(tenant, event_id)
        assert answer.status_code == 200, answer.text
    assert _stored(runtime) == [("books", "evt-a"), ("books_b", "evt-b")]
    again = [register(runtime.connections, name, address, {TRIGGER}, wait=30) for name in ("books", "books_b")]
    assert [r.done for done in again for r in done] == ["kept", "kept"] and len(vendor.subscriptions) == 2


def test_a_member_registered_on_its_own_address_keeps_its_secret_in_the_set_s_row(served):
    runtime, vendor, url = served
    (done,) = register(runtime.connections, "books_b", f"{url}/webhooks/books_b", {TRIGGER}, wait=30)
    assert done.done == "confirmed"
    box = runtime.connections.secret_box
    assert box.status("books_b") is None and SIGNING + done.subscription.id in box.get("books")
    answer = vendor.deliver("t-2", "evt-b")
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    assert _stored(runtime) == [("books_b", "evt-b")]
    (again,) = register(runtime.connections, "books_b", f"{url}/webhooks/books_b", {TRIGGER}, wait=30)
    assert again.done == "kept"  # its secret found where the connection reads its secrets
