"""OAuth for any vendor: PKCE, and a connector step after the code exchange that learns the tenant.

The vendor is a loopback app that behaves as PKCE authorization servers do (RFC 7636): it
keeps the code challenge with the code and refuses an exchange whose verifier does not hash
to it; its tenant endpoint (as Xero's ``GET /connections``) answers only a valid Bearer
token. The connector, ``tenanted``, is registered as an extra plugin.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from flask import Flask, jsonify, redirect, request

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.contract import Connector, Limits, OAuth2, Request, choose_tenant
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.errors import VendorError
from ledgerlink.io.oauth import code_challenge, consent_url
from ledgerlink.io.secrets import new_key
from ledgerlink.store import Store
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN
from ledgerlink.testing.databases import migrated_db

CLIENT_SECRET = "tenanted-client-secret"


class Vendor:
    """Consent, token and tenant endpoints of an OAuth vendor with PKCE, on loopback."""

    def __init__(self, tenants: list[dict[str, str]] | None) -> None:
        #: None: the tenant endpoint refuses every token, as after a revoked consent
        self.tenants = tenants
        self.codes: dict[str, str] = {}  # code -> S256 challenge
        self.tokens: set[str] = set()
        self.exchanges: list[dict[str, str]] = []
        self.app = Flask("vendor")
        self.app.add_url_rule("/authorize", view_func=self.authorize)
        self.app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        self.app.add_url_rule("/connections", view_func=self.connections)

    def authorize(self):
        args = request.args
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return jsonify(error="invalid_request", error_description="PKCE is required"), 400
        code = secrets.token_urlsafe(16)
        self.codes[code] = args["code_challenge"]
        return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args['state']})}")

    def token(self):
        form = request.form.to_dict()
        self.exchanges.append(form)
        if (form.get("client_id"), form.get("client_secret")) != ("tenanted-app", CLIENT_SECRET):
            return jsonify(error="invalid_client"), 401
        if form.get("grant_type") == "client_credentials":  # RFC 6749 §4.4: no refresh token
            token = secrets.token_urlsafe(24)
            self.tokens.add(token)
            return jsonify(access_token=token, expires_in=1800)
        challenge = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge is None or digest != challenge:
            return jsonify(error="invalid_grant"), 400
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return jsonify(access_token=token, refresh_token=secrets.token_urlsafe(24), expires_in=1800)

    def connections(self):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tenants is None or token not in self.tokens:
            return jsonify(error="unauthorized"), 401
        return jsonify(self.tenants)


def learn_tenant(query, connection):
    """As a connector whose vendor lists the consent's tenants at ``GET /connections``."""
    answer = yield Request("GET", f"{connection.settings['base_url']}/connections")
    if answer.status != 200:
        raise VendorError(f"GET /connections answered HTTP {answer.status}", kind="permanent")
    tenants = {t["tenantId"]: t["tenantName"] for t in answer.json}
    return {"tenant_id": choose_tenant(tenants, connection, "tenant_id")}


class Tenanted:
    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(
            name="tenanted", summary="A vendor with PKCE and several tenants per consent (tests)",
            settings_schema={"type": "object", "properties": {
                name: {"type": "string"} for name in ("client_id", "client_secret", "authorize_url",
                                                      "token_url", "base_url", "tenant_id", "grant")}},
            secret_settings=("client_secret",),
            # the tenant travels in a header of every request, as Xero's xero-tenant-id does
            auth=lambda values: {"Authorization": f"Bearer {values['access_token']}",
                                 "Tenant-Id": values["tenant_id"]},
            auth_settings=("tenant_id", "daily_limit"),
            limits_for=lambda values: Limits(60, 60.0, daily=int(values.get("daily_limit", 5000))),
            oauth=OAuth2(authorize_url="https://login.vendor.example/authorize",
                         token_url="https://login.vendor.example/token", client_auth="body", pkce=True,
                         learn_tenant=learn_tenant, grants=("authorization_code", "client_credentials"))))


@pytest.fixture
def connect(tmp_path, monkeypatch):
    """``connect(tenants, tenant_id=None, more="", grant=None) -> (runtime, vendor, callback
    response)``: ``more`` is added to ledgerlink.toml (with ``{url}`` the vendor's); with a
    ``grant`` the connection chooses it and no consent is made (the response is None)."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_TENANTED_SECRET", CLIENT_SECRET)
    catalog = load_catalog(build_plugin_manager(extra=[("tenanted", Tenanted())]))
    count = iter(range(1, 100))

    def run(tenants, tenant_id=None, more="", grant=None):
        vendor = Vendor(tenants)
        url = opened.enter_context(background(vendor.app)).url
        folder = tmp_path / str(next(count))
        folder.mkdir()
        config = folder / "ledgerlink.toml"
        config.write_text(f'[connections.books]\nconnector = "tenanted"\nclient_id = "tenanted-app"\n'
                          f'daily_limit = 1000\n'
                          f'client_secret = "${{LL_TENANTED_SECRET}}"\nauthorize_url = "{url}/authorize"\n'
                          f'token_url = "{url}/token"\nbase_url = "{url}"\n'
                          + (f'tenant_id = "{tenant_id}"\n' if tenant_id else "")
                          + (f'grant = "{grant}"\n' if grant else "") + more.replace("{url}", url))
        runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(folder)), None, Settings())
        opened.callback(runtime.close)
        if grant:
            return runtime, vendor, None
        consent = httpx.get(consent_url(runtime.connections, "books", "http://127.0.0.1:8080/oauth/callback"))
        assert consent.status_code == 302, consent.text
        back = urlparse(consent.headers["location"])
        client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
        return runtime, vendor, client.get(f"/oauth/callback?{back.query}")

    with contextlib.ExitStack() as opened:
        yield run


def test_the_consent_url_carries_an_s256_challenge_and_the_exchange_its_verifier(connect):
    runtime, vendor, answer = connect([{"tenantId": "org-1", "tenantName": "Acme Ltd"}])
    assert answer.status_code == 200, answer.get_json()
    (exchange,) = vendor.exchanges
    verifier = exchange["code_verifier"]
    assert 43 <= len(verifier) <= 128 and set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    url = urlparse(consent_url(runtime.connections, "books", "http://127.0.0.1:8080/oauth/callback"))
    query = parse_qs(url.query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert verifier not in url.query  # the verifier never leaves ledgerlink before the exchange
    assert code_challenge(verifier) != query["code_challenge"][0]  # a new verifier for each consent


def test_a_vendor_without_pkce_gets_no_challenge(tmp_path, monkeypatch):
    """QuickBooks declares no PKCE: its consent URL is the plain authorization-code one."""
    from ledgerlink.engine.operations import build_runtime

    monkeypatch.setenv("LL_QBO_SECRET", "qbo-secret")
    config = tmp_path / "ledgerlink.toml"
    config.write_text('[connections.qbo]\nconnector = "quickbooks"\nclient_id = "qbo-app"\n'
                      'client_secret = "${LL_QBO_SECRET}"\n')
    runtime = build_runtime(db=migrated_db(tmp_path), config_file=str(config))
    try:
        query = parse_qs(urlparse(consent_url(runtime.connections, "qbo", "http://127.0.0.1:8080/oauth/callback")).query)
    finally:
        runtime.close()
    assert query["response_type"] == ["code"] and "code_challenge" not in query


def test_the_tenant_is_learned_after_the_exchange_with_the_fresh_token(connect):
    runtime, vendor, answer = connect([{"tenantId": "org-1", "tenantName": "Acme Ltd"}])
    assert answer.get_json() == {"connected": "books", "status": "ok"}
    stored = runtime.connections.secret_box.get("books")
    assert stored["settings"] == {"tenant_id": "org-1"} and stored["access_token"] in vendor.tokens
    runtime.connections.forget("books")
    assert runtime.connections.connection("books").settings["tenant_id"] == "org-1"


def test_auth_reads_the_learned_tenant_and_the_settings_it_names_which_are_not_redacted(connect):
    runtime, vendor, answer = connect([{"tenantId": "org-1", "tenantName": "Acme Ltd"}])
    assert answer.status_code == 200, answer.get_json()
    runtime.connections.forget("books")
    headers, redacted = runtime.connections.credentials("books")
    assert headers["Tenant-Id"] == "org-1" and headers["Authorization"].removeprefix("Bearer ") in vendor.tokens
    # the secrets are redacted; the tenant id, a setting, is not hidden from the logs
    assert CLIENT_SECRET in redacted and "org-1" not in redacted
    assert runtime.connections.limits("books").daily == 1000


def test_several_tenants_take_the_configured_one_or_are_listed_in_a_clear_error(connect):
    tenants = [{"tenantId": "org-1", "tenantName": "Acme Ltd"}, {"tenantId": "org-2", "tenantName": "Acme Inc"}]
    runtime, _, answer = connect(tenants)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "config_error"
    assert "org-1 (Acme Ltd), org-2 (Acme Inc)" in error["message"] and "set tenant_id" in error["message"]
    assert runtime.store.secret_blob("books") is None  # nothing stored: connect again once chosen

    runtime, _, answer = connect(tenants, tenant_id="org-2")
    assert answer.status_code == 200, answer.get_json()
    assert runtime.connections.secret_box.get("books")["settings"] == {"tenant_id": "org-2"}

    runtime, _, answer = connect(tenants, tenant_id="org-9")
    assert answer.status_code == 400 and "covers only org-1 (Acme Ltd), org-2 (Acme Inc)" in \
        answer.get_json()["error"]["message"]


def test_a_tenant_endpoint_that_refuses_is_a_json_error_and_stores_nothing(connect):
    runtime, _, answer = connect(None)
    assert answer.status_code == 502
    assert answer.get_json()["error"]["message"] == "GET /connections answered HTTP 401"
    assert runtime.store.secret_blob("books") is None


def test_every_connection_on_a_token_set_learns_its_tenant_or_nothing_is_stored(connect):
    tenants = [{"tenantId": "org-1", "tenantName": "Acme Ltd"}, {"tenantId": "org-2", "tenantName": "Acme Inc"}]
    other = '[connections.books-2]\nconnector = "tenanted"\ntoken_set = "books"\nbase_url = "{url}"\n'
    runtime, vendor, answer = connect(tenants, "org-1", other + 'tenant_id = "org-2"\n')
    assert answer.status_code == 200, answer.get_json()
    assert runtime.store.secret_blob("books-2") is None  # one row: the token set's
    first, second = (runtime.connections.credentials(name)[0] for name in ("books", "books-2"))
    assert (first["Tenant-Id"], second["Tenant-Id"]) == ("org-1", "org-2")
    assert first["Authorization"] == second["Authorization"]
    assert len(vendor.exchanges) == 1  # one consent, one code exchange
    runtime, _, answer = connect(tenants, "org-1", other + 'tenant_id = "org-9"\n')
    assert answer.status_code == 400 and "books-2" in answer.get_json()["error"]["message"]
    assert runtime.store.secret_blob("books") is None  # one connection could not learn its tenant


def test_the_client_credentials_grant_connects_without_a_consent_and_has_no_refresh_token(connect):
    from ledgerlink.errors import ConfigError
    from ledgerlink.io.oauth import connect_client

    runtime, vendor, _ = connect([{"tenantId": "org-1", "tenantName": "Acme Ltd"}], grant="client_credentials")
    with pytest.raises(ConfigError, match="needs no consent"):
        consent_url(runtime.connections, "books", "http://127.0.0.1:8080/oauth/callback")
    assert connect_client(runtime.connections, "books") == ["books"]
    assert vendor.exchanges == [{"grant_type": "client_credentials", "client_id": "tenanted-app",
                                 "client_secret": CLIENT_SECRET}]  # client_auth = "body"
    stored = runtime.connections.secret_box.get("books")
    assert "refresh_token" not in stored and stored["access_token"] in vendor.tokens
    assert runtime.connections.connection("books").settings["tenant_id"] == "org-1"
    runtime, _, _ = connect([], grant="password")
    with pytest.raises(ConfigError, match="offers authorization_code, client_credentials"):
        connect_client(runtime.connections, "books")


def test_connecting_again_keeps_the_secrets_webhook_subscriptions_taught(connect):
    """A reconnection replaces the tokens; a subscription's signing secret is not the consent's
    to drop (the vendor would go on signing with it)."""
    from ledgerlink.contract.subscriptions import PENDING, SIGNING

    runtime, _, answer = connect([{"tenantId": "org-1", "tenantName": "Acme Ltd"}])
    assert answer.status_code == 200, answer.get_json()
    box = runtime.connections.secret_box
    box.locked_update("books", lambda values, status: (
        {**values, SIGNING + "101": "confirmed-secret", PENDING + "102": "pending-secret"}, status, None))
    first_token = box.get("books")["access_token"]
    consent = httpx.get(consent_url(runtime.connections, "books", "http://127.0.0.1:8080/oauth/callback"))
    client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
    assert client.get(f"/oauth/callback?{urlparse(consent.headers['location']).query}").status_code == 200
    stored = box.get("books")
    assert stored["access_token"] != first_token
    assert stored[SIGNING + "101"] == "confirmed-secret" and stored[PENDING + "102"] == "pending-secret"
