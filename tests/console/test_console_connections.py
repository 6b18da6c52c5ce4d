"""The connections page against the QuickBooks sandbox on loopback: each state (not
connected, ok, needs re-authorisation, paused) with why, paused runs linked to the sync log,
rate-limit headroom and token expiry; Connect through the vendor's consent and back; a
consent refused or replayed; resuming paused runs behind a confirmation; no token or client
secret on any page; every POST refused without its CSRF token."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from console_helpers import csrf_of, sign_in
from console_oauth import oauth_config, stored_secrets
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from runtime_fixtures import ADMIN_TOKEN, deliver, recipes_dir, wait_settled, working
from stripe_events import invoice_paid_event


@pytest.fixture
def console(tmp_path, monkeypatch, qbo, sandbox):
    """``serve``'s app over an OAuth QuickBooks connection never connected, and a client
    signed in to its console."""
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                            config_file=str(oauth_config(tmp_path, monkeypatch, qbo.url)),
                            settings=Settings(backoff_base=0.05, backoff_cap=0.2))
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime)
    client = app.test_client()
    assert sign_in(client).status_code == 303
    yield runtime, client, qbo
    runtime.close()


def section(html: str, name: str) -> str:
    """The part of the connections page about connection ``name``."""
    found = re.search(rf'<section class="connection" id="connection-{name}".*?</section>', html, re.S)
    assert found, html
    return found.group(0)


def connections_page(client, query: str = "") -> str:
    answer = client.get(f"/console/connections{query}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def press_connect(client, qbo) -> httpx.URL:
    """Press Connect: the console answers with the consent page's address; the sandbox
    consents at once and sends the browser back: that address."""
    html = connections_page(client)
    answer = client.post("/console/connections/quickbooks/connect", data={"csrf": csrf_of(html)})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    consent = urlparse(answer.headers["Location"])
    query = parse_qs(consent.query)
    assert f"{consent.scheme}://{consent.netloc}{consent.path}" == f"{qbo.url}/connect/oauth2"
    assert query["redirect_uri"] == ["http://localhost/console/oauth/callback"] and query["state"][0]
    back = httpx.get(answer.headers["Location"])
    assert back.status_code == 302
    return httpx.URL(back.headers["location"])


def land(client, back: httpx.URL):
    return client.get(f"{back.path}?{back.query.decode()}")


def test_not_connected_then_connect_through_the_consent_page_and_back(console):
    runtime, client, qbo = console
    answer = client.get("/console/connections")
    html = answer.get_data(as_text=True)
    quickbooks = section(html, "quickbooks")
    assert "not connected" in quickbooks and "Never connected" in quickbooks
    assert ">Connect</button>" in quickbooks and "Access token</dt><dd>none stored" in quickbooks
    assert "490 of 490 requests left this window" in quickbooks  # QuickBooks' 500 a minute, with headroom
    assert "stripe" in html and "Check key" not in section(html, "stripe")  # a configured key: no button
    # the Connect form's answer redirects to the consent page: its site is allowed as a form target
    assert f"form-action 'self' {qbo.url}" in answer.headers["Content-Security-Policy"]

    back = press_connect(client, qbo)
    assert back.path == "/console/oauth/callback"
    landed = land(client, back)
    page = landed.get_data(as_text=True)
    assert landed.status_code == 200 and "quickbooks is connected" in page
    assert '<meta http-equiv="refresh" content="0; url=/console/connections?connected=quickbooks">' in page
    html = connections_page(client, "?connected=quickbooks")
    quickbooks = section(html, "quickbooks")
    assert 'cs-ok">ok</span>' in quickbooks and ">Reconnect</button>" in quickbooks
    assert "quickbooks is connected: its tokens are stored" in html
    expires = runtime.connections.secret_box.get("quickbooks")["access_expires_at"]
    assert time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(expires))) in quickbooks  # when, never the token
    assert "Refresh token</dt>" in quickbooks
    for secret in stored_secrets(runtime):
        assert secret not in html and secret not in page
    api = client.get("/api/connections", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    [row] = [r for r in api.get_json()["connections"] if r["name"] == "quickbooks"]
    assert row["expires"]["access"] == pytest.approx(float(expires)) and row["expires"]["refresh"] > expires
    assert not any(secret in api.get_data(as_text=True) for secret in stored_secrets(runtime))


def test_a_landing_needs_no_session_and_a_used_or_refused_consent_says_so(console):
    runtime, client, qbo = console
    back = press_connect(client, qbo)
    stranger = client.application.test_client()  # the vendor's redirect may come without the cookie
    landed = land(stranger, back)
    assert landed.status_code == 200 and "quickbooks is connected" in landed.get_data(as_text=True)
    again = land(stranger, back)  # the same code and state, replayed
    assert again.status_code == 400 and "this consent link has expired or was used" in again.get_data(as_text=True)
    refused = client.get("/console/oauth/callback?state=" + "x" * 30 + "&error=access_denied")
    assert refused.status_code == 400 and "Not connected" in refused.get_data(as_text=True)
    assert client.get("/console/connections?connected=nobody").get_data(as_text=True).count('class="notice"') == 0


def test_needs_reauth_shows_the_paused_runs_and_reconnecting_resumes_them(console):
    runtime, client, qbo = console
    assert land(client, press_connect(client, qbo)).status_code == 200
    tokens = runtime.connections.secret_box.get("quickbooks")
    qbo.sandbox.revoke(tokens["refresh_token"], grant=True)  # the company disconnected the app
    runtime.connections.secret_box.locked_update("quickbooks",
                                                 lambda v, s: ({**v, "access_expires_at": 0}, "ok", None))
    with working(runtime):
        deliver(runtime, invoice_paid_event("usd", 1000, event_id="evt_console_reauth"))
        assert wait_settled(runtime, 1) == {"paused": 1}
        html = connections_page(client)
        quickbooks = section(html, "quickbooks")
        assert "needs reauth" in quickbooks and "refused its consent or key" in quickbooks
        assert '<a href="/console/?status=paused&amp;paused_on=quickbooks">1 paused run</a>' in quickbooks
        log = client.get("/console/?status=paused&paused_on=quickbooks").get_data(as_text=True)
        assert "evt_console_reauth" in log and "Only runs paused on quickbooks" in log
        assert "evt_console_reauth" not in client.get("/console/?status=paused&paused_on=xero").get_data(as_text=True)
        assert land(client, press_connect(client, qbo)).status_code == 200  # Reconnect
        assert wait_settled(runtime, 1) == {"succeeded": 1}
    assert 'cs-ok">ok</span>' in section(connections_page(client), "quickbooks")


def test_paused_runs_are_resumed_behind_a_confirmation(console):
    runtime, client, qbo = console
    deliver(runtime, invoice_paid_event("usd", 2500, event_id="evt_console_paused"))
    [run] = runtime.store.list_runs()
    claimed = runtime.store.claim("test-owner", 60)  # a worker took it, and parked it on quickbooks
    assert [r.id for r in claimed] == [run["id"]]
    assert runtime.store.pause(run["id"], "test-owner", "quickbooks", "connect quickbooks first")
    assert land(client, press_connect(client, qbo)).status_code == 200  # connecting resumes it…
    assert runtime.store.list_runs()[0]["status"] == "pending"
    assert [r.id for r in runtime.store.claim("test-owner", 60)] == [run["id"]]  # parked again, connected
    assert runtime.store.pause(run["id"], "test-owner", "quickbooks", "the vendor said to wait")
    quickbooks = section(connections_page(client), "quickbooks")
    assert 'cs-paused">paused</span>' in quickbooks and "Resume paused runs…" in quickbooks
    confirm = client.get("/console/connections/quickbooks/resume")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "The 1 run(s) paused on quickbooks become pending again" in text
    assert runtime.store.list_runs()[0]["status"] == "paused"  # the confirmation changed nothing
    done = client.post("/console/connections/quickbooks/resume", data={"csrf": csrf_of(text)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/console/connections?resumed=quickbooks")
    assert runtime.store.list_runs()[0]["status"] == "pending"
    assert "paused runs and notifications of quickbooks are resumed" in connections_page(client, "?resumed=quickbooks")


def test_every_post_needs_its_csrf_token_and_an_unknown_connection_is_404(console):
    runtime, client, qbo = console
    for path in ("/console/connections/quickbooks/connect", "/console/connections/quickbooks/resume"):
        refused = client.post(path, data={})
        assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
        refused = client.post(path, data={"csrf": "not-the-token"})
        assert refused.status_code == 403
    html = connections_page(client)
    missing = client.post("/console/connections/nobody/connect", data={"csrf": csrf_of(html)})
    assert missing.status_code == 404 and "there is no connection &#39;nobody&#39;" in missing.get_data(as_text=True)
    assert client.get("/console/connections/nobody/resume").status_code == 404
    outsider = client.application.test_client()  # not signed in
    assert outsider.get("/console/connections").status_code == 303
    assert outsider.post("/console/connections/quickbooks/connect").status_code == 401


def test_a_connect_the_vendor_cannot_start_says_why(console, monkeypatch):
    runtime, client, qbo = console
    monkeypatch.delenv("LL_QBO_CLIENT_SECRET")
    html = connections_page(client)
    answer = client.post("/console/connections/quickbooks/connect", data={"csrf": csrf_of(html)})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "quickbooks was not connected" in text and "client_secret" in text
