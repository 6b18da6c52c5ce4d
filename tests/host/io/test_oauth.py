"""OAuth connections: consent, encrypted tokens, one refresh at a time, needs_reauth pauses runs."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from ledgerlink.web.app import create_app
from ledgerlink.errors import NeedsReauth
from ledgerlink.io.oauth import consent_url
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.io.secrets import new_key
from ledgerlink.engine.operations import build_runtime
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, signed
from ledgerlink.testing.databases import migrated_db
from stripe_events import invoice_paid_event

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
REALM = "9130350000000000"


@pytest.fixture
def connected(tmp_path, monkeypatch, qbo, sandbox):
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_QBO_CLIENT_SECRET", "sandbox-secret")
    config = tmp_path / "ledgerlink.toml"
    config.write_text(
        '[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
        f'[connections.quickbooks]\nconnector = "quickbooks"\nbase_url = "{qbo.url}"\n'
        f'authorize_url = "{qbo.url}/connect/oauth2"\ntoken_url = "{qbo.url}/oauth2/v1/tokens/bearer"\n'
        'client_id = "sandbox-client"\nclient_secret = "${LL_QBO_CLIENT_SECRET}"\n')
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path), config_file=str(config),
                            settings=Settings(backoff_base=0.05, backoff_cap=0.2))
    app = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime)
    client = app.test_client()

    def connect() -> None:
        url = consent_url(runtime.connections, "quickbooks", "http://127.0.0.1:8080/oauth/callback")
        consent = httpx.get(url, follow_redirects=False)
        assert consent.status_code == 302
        back = urlparse(consent.headers["location"])
        answer = client.get(f"/oauth/callback?{back.query}")
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json() == {"connected": "quickbooks", "status": "ok"}

    yield runtime, client, sandbox, connect
    runtime.close()


def settle(runtime, expected, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = runtime.store.counts()
        if counts == expected:
            return counts
        time.sleep(0.05)
    raise AssertionError(runtime.store.counts())


def test_consent_stores_encrypted_tokens_and_learns_the_realm(connected):
    runtime, client, sandbox, connect = connected
    before = {r["name"]: r["status"] for r in client.get("/api/connections", headers=AUTH).get_json()["connections"]}
    assert before == {"quickbooks": "not_connected", "stripe": "configured"}
    connect()
    blob, status = runtime.store.secret_blob("quickbooks")
    tokens = runtime.connections.secret_box.get("quickbooks")
    assert status == "ok" and tokens["access_token"].encode() not in blob
    assert tokens["settings"] == {"realm_id": REALM}
    assert runtime.connections.connection("quickbooks").settings["realm_id"] == REALM
    rows = {r["name"]: r for r in client.get("/api/connections", headers=AUTH).get_json()["connections"]}
    assert rows["quickbooks"]["status"] == "ok" and rows["quickbooks"]["oauth"] is True
    # a state is single use
    url = consent_url(runtime.connections, "quickbooks", "http://127.0.0.1:8080/oauth/callback")
    query = urlparse(httpx.get(url, follow_redirects=False).headers["location"]).query
    assert client.get(f"/oauth/callback?{query}").status_code == 200
    replayed = client.get(f"/oauth/callback?{query}")
    assert replayed.status_code == 400 and replayed.get_json()["error"]["code"] == "config_error"
    assert client.get("/oauth/callback?state=forged&code=x").status_code == 400


def test_runs_use_the_stored_token_and_one_refresh_serves_every_thread(connected):
    runtime, client, sandbox, connect = connected
    connect()
    pool = WorkerPool(runtime, 2)
    pool.start()
    try:
        body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_oauth_1"))
        runtime.inbox.receive("stripe", headers, body)
        settle(runtime, {"succeeded": 1})
    finally:
        pool.stop()
    first = runtime.connections.secret_box.get("quickbooks")
    runtime.connections.secret_box.locked_update("quickbooks", lambda v, s: ({**v, "access_expires_at": 0}, "ok", None))
    results, barrier = [], threading.Barrier(8)

    def use():
        barrier.wait()
        results.append(runtime.connections.secrets("quickbooks")["access_token"])

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert runtime.metrics.values.get("token_refreshes") == 1
    assert len(set(results)) == 1 and results[0] != first["access_token"]
    second = runtime.connections.secret_box.get("quickbooks")
    assert second["refresh_token"] != first["refresh_token"]  # rotated, and stored
    # the old refresh token is dead at the vendor: using it again is invalid_grant
    again = httpx.post(runtime.connections.connection("quickbooks").settings["token_url"],
                       data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                       auth=("sandbox-client", "sandbox-secret"))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_invalid_grant_pauses_runs_until_connected_again(connected):
    runtime, client, sandbox, connect = connected
    connect()
    tokens = runtime.connections.secret_box.get("quickbooks")
    sandbox.revoke(tokens["refresh_token"], grant=True)  # the company disconnected the app
    runtime.connections.secret_box.locked_update("quickbooks", lambda v, s: ({**v, "access_expires_at": 0}, "ok", None))
    pool = WorkerPool(runtime, 1)
    pool.start()
    try:
        body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_oauth_2"))
        runtime.inbox.receive("stripe", headers, body)
        settle(runtime, {"paused": 1})
        run = runtime.store.list_runs()[0]
        assert "ledgerlink connect quickbooks" in run["last_error"] and run["attempts"] == 0
        rows = {r["name"]: r for r in client.get("/api/connections", headers=AUTH).get_json()["connections"]}
        assert rows["quickbooks"]["status"] == "needs_reauth" and rows["quickbooks"]["paused_runs"] == 1
        assert 'ledgerlink_connection_needs_reauth{connection="quickbooks"} 1.0' in client.get("/metrics", headers=AUTH).get_data(as_text=True)
        with pytest.raises(NeedsReauth):
            runtime.connections.secrets("quickbooks")
        connect()  # connected again: the paused run resumes
        settle(runtime, {"succeeded": 1})
    finally:
        pool.stop()


def test_connect_and_connections_commands(tmp_path, monkeypatch, run_subprocess):


    env = {"LEDGERLINK_SECRET_KEY": new_key(), "LL_QBO_CLIENT_SECRET": "sandbox-secret", "LL_TEST_WHSEC": "w"}
    config = tmp_path / "ledgerlink.toml"
    config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
                      '[connections.books]\nconnector = "quickbooks"\nclient_id = "my-app"\n'
                      'client_secret = "${LL_QBO_CLIENT_SECRET}"\n')
    db = migrated_db(tmp_path)
    result = run_subprocess("connect", "books", "--db", db, "--config", str(config),
                            "--redirect-uri", "https://books.example/oauth/callback", env=env)
    assert result.returncode == 0, result.stderr
    url = urlparse(result.stdout.strip().splitlines()[-1])
    query = parse_qs(url.query)
    assert url.netloc == "appcenter.intuit.com" and query["client_id"] == ["my-app"]
    assert query["scope"] == ["com.intuit.quickbooks.accounting"] and len(query["state"][0]) >= 24
    assert query["redirect_uri"] == ["https://books.example/oauth/callback"]
    assert "sandbox-secret" not in result.stdout + result.stderr
    listed = run_subprocess("connections", "--db", db, "--config", str(config), "--json", env=env)
    rows = {r["name"]: r["status"] for r in __import__("json").loads(listed.stdout)["connections"]}
    assert rows == {"books": "not_connected", "stripe": "configured"}
    refused = run_subprocess("connect", "stripe", "--db", db, "--config", str(config), env=env)
    # a key connection is checked instead: this one has no key to check
    assert refused.returncode == 1 and "has no api_key setting" in refused.stderr


def test_the_worker_reads_and_decrypts_tokens_once_per_cache_period_not_per_request(connected, monkeypatch):
    runtime, client, sandbox, connect = connected
    connect()
    reads = []
    original = runtime.store.secret_blob
    monkeypatch.setattr(runtime.store, "secret_blob", lambda name: reads.append(name) or original(name))
    for _ in range(50):
        auth, redact = runtime.connections.credentials("quickbooks")
        assert auth["Authorization"].startswith("Bearer ")
    assert len(reads) <= 1
    # a write through the box is seen at once; a change by another process within cache_seconds
    runtime.connections.secret_box.locked_update("quickbooks", lambda v, s: ({**v, "access_token": "rotated-here"}, "ok", None))
    assert runtime.connections.credentials("quickbooks")[0]["Authorization"] == "Bearer rotated-here"
    other = type(runtime.connections.secret_box)(runtime.store)  # another process's box over the same database
    other.locked_update("quickbooks", lambda v, s: (v, "needs_reauth", None))
    runtime.connections.secret_box.cache_seconds = 0.0
    with pytest.raises(NeedsReauth):
        runtime.connections.credentials("quickbooks")


def test_four_processes_refresh_an_expired_token_once(connected):
    """The refresh lock is the database's (a row lock on PostgreSQL, the write lock on
    SQLite), so processes that meet only in the database still refresh once: a second
    refresh would spend a rotated refresh token and be refused with invalid_grant."""
    import subprocess
    import sys

    runtime, client, sandbox, connect = connected
    connect()
    runtime.connections.secret_box.locked_update("quickbooks", lambda v, s: ({**v, "access_expires_at": 0}, "ok", None))
    start_at = time.time() + 3.0
    script = (
        "import sys, time\n"
        "from ledgerlink.engine.operations import build_runtime\n"
        "rt = build_runtime(db=sys.argv[1], config_file=sys.argv[2])\n"
        "time.sleep(max(0.0, float(sys.argv[3]) - time.time()))\n"
        "print(rt.connections.secrets('quickbooks')['access_token'][:12], rt.metrics.values.get('token_refreshes', 0))\n")
    processes = [subprocess.Popen([sys.executable, "-c", script, runtime.store.url, runtime.config.file, str(start_at)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-800:] for _, err in outputs]
    tokens = {out.split()[0] for out, _ in outputs}
    refreshes = sum(int(out.split()[1]) for out, _ in outputs)
    assert len(tokens) == 1 and refreshes == 1, outputs
    assert runtime.connections.secret_box.status("quickbooks") == "ok"
