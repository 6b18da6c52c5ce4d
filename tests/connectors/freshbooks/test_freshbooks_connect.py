"""`ledgerlink connect` for a FreshBooks connection, through the host's OAuth flow against the
FreshBooks sandbox over loopback: the business learned from users/me (two unnamed are listed,
a Classic one refused), every request then carrying the bearer; refresh tokens good once —
stored before they are used, one refresh at a time, and a refresh whose answer was lost
leaving the runs to wait for a reconnect (FreshBooks has no grace for the used token)."""

from __future__ import annotations

import contextlib
import threading
from urllib.parse import urlparse

import httpx
import pytest
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
from ledgerlink_sandboxes.freshbooks import (CLASSIC_ACCOUNT_ID, DEFAULT_ACCOUNT_ID, DEFAULT_BUSINESS_ID,
                                             DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, create_sandbox)
from fb_connector import LossyTokens
from runtime_fixtures import ADMIN_TOKEN

CLASSIC_BUSINESS_ID = 6544


@pytest.fixture
def connected(tmp_path, monkeypatch):
    """``connect(business_id) -> (runtime, lossy, callback answer)`` for connection ``books``."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_FRESHBOOKS_SECRET", DEFAULT_CLIENT_SECRET)
    with contextlib.ExitStack() as opened:
        freshbooks = opened.enter_context(running(create_sandbox()))
        lossy = LossyTokens(f"{freshbooks.url}/auth/oauth/token")
        lossy_url = opened.enter_context(background(lossy.app)).url

        def connect(business_id=None):
            config = tmp_path / "ledgerlink.toml"
            config.write_text(f'[connections.books]\nconnector = "freshbooks"\nclient_id = "{DEFAULT_CLIENT_ID}"\n'
                              f'client_secret = "${{LL_FRESHBOOKS_SECRET}}"\n'
                              f'authorize_url = "{freshbooks.url}/service/auth/oauth/authorize"\n'
                              f'token_url = "{lossy_url}/auth/oauth/token"\n'
                              f'identity_url = "{freshbooks.url}/auth/api/v1/users/me"\n'
                              f'api_base = "{freshbooks.url}"\n'
                              + (f'business_id = {business_id}\n' if business_id else ""))
            catalog = load_catalog()
            runtime = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), None, Settings())
            opened.callback(runtime.close)
            consent = httpx.get(consent_url(runtime.connections, "books", "http://127.0.0.1:8080/oauth/callback"))
            assert consent.status_code == 302, consent.text
            client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
            return runtime, lossy, client.get(f"/oauth/callback?{urlparse(consent.headers['location']).query}")

        yield connect


def clients(runtime) -> httpx.Response:
    headers, _ = runtime.connections.credentials("books")
    settings = runtime.connections.connection("books").settings
    return httpx.get(f"{settings['api_base']}/accounting/account/{settings['account_id']}/users/clients",
                     headers={**headers, "Accept": "application/json"})


def test_consent_learns_the_chosen_business_and_its_account_and_requests_carry_the_bearer(connected):
    runtime, _, answer = connected(DEFAULT_BUSINESS_ID)
    assert answer.status_code == 200, answer.get_json()
    settings = runtime.connections.connection("books").settings
    assert (settings["business_id"], settings["account_id"]) == (DEFAULT_BUSINESS_ID, DEFAULT_ACCOUNT_ID)
    headers, redacted = runtime.connections.credentials("books")
    assert headers["Authorization"].startswith("Bearer ") and DEFAULT_CLIENT_SECRET in redacted
    assert clients(runtime).status_code == 200


def test_two_businesses_must_be_chosen_and_a_classic_one_is_refused(connected):
    _, _, answer = connected()
    message = answer.get_json()["error"]["message"]
    assert answer.status_code == 400 and "set business_id" in message
    assert f"{DEFAULT_BUSINESS_ID} (" in message and f"{CLASSIC_BUSINESS_ID} (" in message
    _, _, answer = connected(CLASSIC_BUSINESS_ID)
    message = answer.get_json()["error"]["message"]
    assert answer.status_code == 400 and "FreshBooks Classic" in message and CLASSIC_ACCOUNT_ID in message


def test_a_rotated_refresh_token_is_stored_before_use_and_refreshed_once_for_many_threads(connected):
    runtime, lossy, _ = connected(DEFAULT_BUSINESS_ID)
    before = runtime.connections.secret_box.get("books")["refresh_token"]
    runtime.connections.expire("books")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(clients(runtime).status_code)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4 and lossy.refreshes == 1  # one refresh, its token used by all
    after = runtime.connections.secret_box.get("books")["refresh_token"]
    assert after != before
    used = httpx.post(lossy.upstream, data={"grant_type": "refresh_token", "refresh_token": before,
                                            "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET})
    assert used.status_code == 400 and used.json()["error"] == "invalid_grant"  # good once


def test_a_refresh_whose_answer_was_lost_waits_for_a_reconnect(connected):
    runtime, lossy, _ = connected(DEFAULT_BUSINESS_ID)
    before = runtime.connections.secret_box.get("books")["refresh_token"]
    runtime.connections.expire("books")
    lossy.drop = 1  # FreshBooks rotated the token, the answer never arrived
    with pytest.raises(LedgerlinkError, match="HTTP 504"):
        runtime.connections.secrets("books")
    assert runtime.connections.secret_box.get("books")["refresh_token"] == before  # nothing half-stored
    with pytest.raises(NeedsReauth):  # the stored token was used up by the lost refresh
        runtime.connections.secrets("books")
    assert runtime.connections.secret_box.status("books") == "needs_reauth"


def test_ledgerlink_connect_sends_the_redirect_address_registered_on_the_app(tmp_path, monkeypatch, capsys):
    from urllib.parse import parse_qs

    from ledgerlink.cli import main

    monkeypatch.setenv("LL_FRESHBOOKS_SECRET", DEFAULT_CLIENT_SECRET)
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f'[connections.books]\nconnector = "freshbooks"\nclient_id = "{DEFAULT_CLIENT_ID}"\n'
                      f'client_secret = "${{LL_FRESHBOOKS_SECRET}}"\n'
                      f'redirect_uri = "https://books.example.com/oauth/callback"\n')
    db = f"sqlite:///{tmp_path / 'ledgerlink.db'}"
    assert main(["db", "upgrade", "--db", db]) == 0
    capsys.readouterr()
    assert main(["connect", "books", "--db", db, "--config", str(config)]) == 0
    url = capsys.readouterr().out.strip().splitlines()[-1]
    assert url.startswith("https://auth.freshbooks.com/service/auth/oauth/authorize?")
    query = parse_qs(urlparse(url).query)
    assert query["redirect_uri"] == ["https://books.example.com/oauth/callback"]
    assert query["client_id"] == [DEFAULT_CLIENT_ID] and "user:invoices:write" in query["scope"][0].split()
    assert main(["connect", "books", "--db", db, "--config", str(config),
                 "--redirect-uri", "https://other.example.com/oauth/callback"]) == 0
    assert "other.example.com" in capsys.readouterr().out
