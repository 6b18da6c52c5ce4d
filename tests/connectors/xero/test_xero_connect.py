"""`ledgerlink connect` for a Xero connection, through the host's OAuth flow against the Xero
sandbox over loopback: consent with PKCE, the organisation learned from /connections, every
request then carrying the bearer and xero-tenant-id; refresh tokens rotating, and a refresh
whose answer was lost retried with the old token inside Xero's 30-minute grace."""

from __future__ import annotations

import contextlib
from urllib.parse import urlparse

import httpx
import pytest
from flask import Flask, Response, request

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.errors import LedgerlinkError, NeedsReauth
from ledgerlink.io.oauth import consent_url
from ledgerlink.io.secrets import new_key
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.xero import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT, create_sandbox
from runtime_fixtures import ADMIN_TOKEN

SECOND = "0d9b2a1c-53a4-4cf7-a9a3-3b0f6a1d2e4f"


class LossyTokens:
    """Xero's token endpoint behind a link that loses the next ``drop`` answers after Xero
    has acted on them (a timeout after the refresh rotated the token)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.drop = 0
        self.app = Flask("lossy")
        self.app.add_url_rule("/connect/token", view_func=self.token, methods=["POST"])

    def token(self):
        answer = httpx.post(self.upstream, data=request.form.to_dict(),
                            headers={"Authorization": request.headers.get("Authorization", "")})
        if self.drop:
            self.drop -= 1
            return Response("upstream timed out", status=504)
        return Response(answer.content, status=answer.status_code, content_type="application/json")


@pytest.fixture
def connected(tmp_path, monkeypatch):
    """``connect(tenant_id) -> (runtime, now, lossy, callback answer)`` for connection ``books``."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_XERO_SECRET", DEFAULT_CLIENT_SECRET)
    now = [1000.0]
    with contextlib.ExitStack() as opened:
        xero = opened.enter_context(running(create_sandbox(tenants=[DEFAULT_TENANT, SECOND], clock=lambda: now[0])))
        lossy = LossyTokens(f"{xero.url}/connect/token")
        lossy_url = opened.enter_context(background(lossy.app)).url

        def connect(tenant_id=None):
            config = tmp_path / "ledgerlink.toml"
            config.write_text(f'[connections.books]\nconnector = "xero"\nclient_id = "{DEFAULT_CLIENT_ID}"\n'
                              f'client_secret = "${{LL_XERO_SECRET}}"\n'
                              f'authorize_url = "{xero.url}/identity/connect/authorize"\n'
                              f'token_url = "{lossy_url}/connect/token"\n'
                              f'connections_url = "{xero.url}/connections"\n'
                              f'api_base = "{xero.url}/api.xro/2.0"\n'
                              + (f'tenant_id = "{tenant_id}"\n' if tenant_id else ""))
            catalog = load_catalog()
            runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), None, Settings())
            opened.callback(runtime.close)
            consent = httpx.get(consent_url(runtime.connections, "books", "http://127.0.0.1:8080/oauth/callback"))
            assert consent.status_code == 302, consent.text
            client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
            return runtime, now, lossy, client.get(f"/oauth/callback?{urlparse(consent.headers['location']).query}")

        yield connect


def organisation(runtime) -> httpx.Response:
    headers, _ = runtime.connections.credentials("books")
    base = runtime.connections.connection("books").settings["api_base"]
    return httpx.get(f"{base}/Organisation", headers={**headers, "Accept": "application/json"})


def test_consent_learns_the_chosen_organisation_and_requests_carry_it(connected):
    runtime, _, _, answer = connected(tenant_id=SECOND)
    assert answer.status_code == 200, answer.get_json()
    assert runtime.connections.connection("books").settings["tenant_id"] == SECOND
    headers, redacted = runtime.connections.credentials("books")
    assert headers["xero-tenant-id"] == SECOND and headers["Authorization"].startswith("Bearer ")
    assert SECOND not in redacted and DEFAULT_CLIENT_SECRET in redacted
    assert organisation(runtime).status_code == 200


def test_two_organisations_on_one_consent_must_be_chosen(connected):
    runtime, _, _, answer = connected()
    assert answer.status_code == 400 and "set tenant_id" in answer.get_json()["error"]["message"]
    assert DEFAULT_TENANT in answer.get_json()["error"]["message"]


def test_a_refresh_whose_answer_was_lost_is_retried_with_the_old_token_inside_the_grace(connected):
    runtime, now, lossy, answer = connected(tenant_id=DEFAULT_TENANT)
    assert answer.status_code == 200, answer.get_json()
    before = runtime.connections.secret_box.get("books")["refresh_token"]
    runtime.connections.expire("books")
    lossy.drop = 1  # Xero rotated the token, the answer never arrived
    with pytest.raises(LedgerlinkError, match="HTTP 504"):
        runtime.connections.secrets("books")
    assert runtime.connections.secret_box.get("books")["refresh_token"] == before  # nothing half-stored
    now[0] += 29 * 60  # inside Xero's 30 minutes, the old token still refreshes
    assert organisation(runtime).status_code == 200
    after = runtime.connections.secret_box.get("books")["refresh_token"]
    assert after != before  # the rotated token is stored before it is used


def test_past_the_grace_the_old_token_is_refused_and_the_runs_wait_for_a_reconnect(connected):
    runtime, now, lossy, _ = connected(tenant_id=DEFAULT_TENANT)
    runtime.connections.expire("books")
    lossy.drop = 1
    with pytest.raises(LedgerlinkError):
        runtime.connections.secrets("books")
    now[0] += 31 * 60
    with pytest.raises(NeedsReauth):
        runtime.connections.secrets("books")
    assert runtime.connections.secret_box.status("books") == "needs_reauth"
