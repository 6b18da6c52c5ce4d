"""Two FreshBooks businesses on one callback address, through ``ledgerlink serve`` on loopback.

One FreshBooks user has two businesses in the FreshBooks sandbox. One consent connects both:
connection ``freshbooks`` names business 6543, ``freshbooks_b`` (on its token set) business
7654. Each registers its callbacks at the one address ``/webhooks/freshbooks``; the sandbox
posts each verification code there and signs every later delivery with its callback's code.
A change in either business lands on the connection whose ``account_id`` the delivery names,
each callback's code kept with the consent's tokens; a delivery of a business no connection
books into is kept and runs nothing; a forged one is refused.
"""

from __future__ import annotations

import contextlib
import time
from urllib.parse import urlencode, urlparse

import httpx
import pytest
import sqlalchemy as sa

from fb_sandbox import TOKEN, call, result
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import signing_secrets
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.io.oauth import consent_url
from ledgerlink.io.secrets import new_key
from ledgerlink.io.subscriptions import register
from ledgerlink.store import Store
from ledgerlink.store.schema import events
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_freshbooks.webhook import HEADER, signature
from ledgerlink_sandboxes.freshbooks import (DEFAULT_ACCOUNT_ID, DEFAULT_BUSINESS_ID, DEFAULT_CLIENT_ID,
                                             DEFAULT_CLIENT_SECRET, create_sandbox)
from runtime_fixtures import ADMIN_TOKEN

SECOND_ACCOUNT, SECOND_BUSINESS = "7CBqm", 7654
THIRD_ACCOUNT, THIRD_BUSINESS = "9XyzQ", 9876
TRIGGERS = {"freshbooks.client.created"}


def _connection(name: str, url: str, business: int, token_set: str | None = None) -> str:
    return (f'[connections.{name}]\nconnector = "freshbooks"\nclient_id = "{DEFAULT_CLIENT_ID}"\n'
            f'client_secret = "${{LL_FRESHBOOKS_SECRET}}"\n'
            f'authorize_url = "{url}/service/auth/oauth/authorize"\ntoken_url = "{url}/auth/oauth/token"\n'
            f'identity_url = "{url}/auth/api/v1/users/me"\napi_base = "{url}"\nbusiness_id = {business}\n'
            + (f'token_set = "{token_set}"\n' if token_set else "") + "\n")


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(runtime, the sandbox on loopback, serve's address), both businesses connected."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_FRESHBOOKS_SECRET", DEFAULT_CLIENT_SECRET)
    more = [{"account_id": SECOND_ACCOUNT, "business_id": SECOND_BUSINESS},
            {"account_id": THIRD_ACCOUNT, "business_id": THIRD_BUSINESS}]
    with contextlib.ExitStack() as opened:
        freshbooks = opened.enter_context(running(create_sandbox(classic=False, more_businesses=more,
                                                                 rate_limit=False)))
        config = tmp_path / "ledgerlink.toml"
        config.write_text(_connection("freshbooks", freshbooks.url, DEFAULT_BUSINESS_ID)
                          + _connection("freshbooks_b", freshbooks.url, SECOND_BUSINESS, token_set="freshbooks"))
        catalog = load_catalog()
        runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), None, Settings())
        opened.callback(runtime.close)
        runtime.connections.secret_box.cache_seconds = 0.0
        url = opened.enter_context(background(create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime))).url
        consent = httpx.get(consent_url(runtime.connections, "freshbooks", f"{url}/oauth/callback"))
        assert consent.status_code == 302, consent.text
        answer = httpx.get(f"{url}/oauth/callback?{urlparse(consent.headers['location']).query}")
        assert answer.status_code == 200, answer.text
        yield runtime, freshbooks, url


def _stored(runtime) -> list[tuple[str, str]]:
    with runtime.store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(events.c.connection, events.c.event_id)).all())


def _wait_for(runtime, count: int) -> list[tuple[str, str]]:
    """The stored events once there are ``count`` (the sandbox delivers from its own thread);
    waits for deliveries, never measures them."""
    for _ in range(600):
        found = _stored(runtime)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    return _stored(runtime)


def _new_client(loop, account: str, email: str) -> str:
    made = result(call(loop, "POST", "users/clients", {"client": {"email": email}}, account=account, token=TOKEN))
    return str(made["client"]["id"])


def test_each_business_s_callback_lands_on_the_connection_of_its_account_id(served):
    runtime, freshbooks, url = served
    address = f"{url}/webhooks/freshbooks"
    settings = {name: runtime.connections.connection(name).settings for name in ("freshbooks", "freshbooks_b")}
    assert (settings["freshbooks"]["account_id"], settings["freshbooks_b"]["account_id"]) == \
        (DEFAULT_ACCOUNT_ID, SECOND_ACCOUNT)
    for name in ("freshbooks", "freshbooks_b"):
        (done,) = register(runtime.connections, name, address, TRIGGERS, wait=30)
        assert done.done == "confirmed", (name, done)
    box = runtime.connections.secret_box
    assert box.status("freshbooks_b") is None and len(signing_secrets(box.get("freshbooks"))) == 2

    first = _new_client(freshbooks, DEFAULT_ACCOUNT_ID, "a@example.com")
    second = _new_client(freshbooks, SECOND_ACCOUNT, "b@example.com")
    assert _wait_for(runtime, 2) == sorted([
        ("freshbooks", f"{DEFAULT_ACCOUNT_ID}:client.create:{first}"),
        ("freshbooks_b", f"{SECOND_ACCOUNT}:client.create:{second}")])


def test_a_business_no_connection_books_into_is_kept_unrun_and_a_forgery_refused(served):
    runtime, freshbooks, url = served
    address = f"{url}/webhooks/freshbooks"
    register(runtime.connections, "freshbooks", address, TRIGGERS, wait=30)
    (code,) = signing_secrets(runtime.connections.secret_box.get("freshbooks")).values()
    fields = [("name", "client.create"), ("object_id", "77"), ("account_id", THIRD_ACCOUNT),
              ("business_id", str(THIRD_BUSINESS)), ("identity_id", "1234"), ("user_id", "1")]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = httpx.post(address, content=urlencode(fields), headers={**headers, HEADER: signature(fields, "guess")})
    assert forged.status_code == 401 and _stored(runtime) == []
    answer = httpx.post(address, content=urlencode(fields), headers={**headers, HEADER: signature(fields, code)})
    assert answer.status_code == 200, answer.text
    assert _stored(runtime) == [("freshbooks", f"{THIRD_ACCOUNT}:client.create:77")]
    assert runtime.metrics.values.get("events_unrouted") == 1
