"""One consent, two Xero organisations, one token set; and a Custom Connection.

Against the Xero sandbox over loopback, with the real store and runtime, on a simulated clock
shared by the sandbox (token lifetimes, the refresh grace) and the host (when to refresh):

- two connections on one token set (``token_set``): one consent connects both, each with its
  own organisation; one refresh serves both, and both see the rotation; a refresh whose answer
  was lost is retried with the old refresh token inside Xero's 30-minute grace; past it,
  ``invalid_grant`` pauses the runs of both (needs_reauth) and one reconnect resumes both;
- two processes on one database refresh the shared set once;
- a Custom Connection (``grant = "client_credentials"``): ``ledgerlink connect`` without a
  browser, a new token asked when the old one expires, a refused client pausing the runs
  with the fix in the message;
- no token or client secret in logs, run records, ``connections`` output or error messages.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import time
from urllib.parse import urlparse

import httpx
import pytest
from flask import Flask, Response, request

from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.worker import Worker
from ledgerlink.errors import ConfigError, LedgerlinkError, NeedsReauth
from ledgerlink.io.oauth import consent_url
from ledgerlink.io.secrets import new_key
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.connections import connection_rows
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.xero import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT, create_sandbox
from runtime_fixtures import ADMIN_TOKEN, signed
from stripe_events import invoice_paid_event

SECOND = "0d9b2a1c-53a4-4cf7-a9a3-3b0f6a1d2e4f"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WHSEC = "whsec_token_sets"


class Tokens:
    """Xero's token endpoint behind a link that counts the refreshes and can lose the next
    ``drop`` answers after Xero acted on them (a timeout after the refresh rotated the token)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.drop = 0
        self.grants: list[str] = []
        self.app = Flask("tokens")
        self.app.add_url_rule("/connect/token", view_func=self.token, methods=["POST"])

    def token(self):
        self.grants.append(request.form.get("grant_type", ""))
        answer = httpx.post(self.upstream, data=request.form.to_dict(),
                            headers={"Authorization": request.headers.get("Authorization", "")})
        if self.drop:
            self.drop -= 1
            return Response("upstream timed out", status=504)
        return Response(answer.content, status=answer.status_code, content_type="application/json")


def recipe(connection: str) -> dict:
    """A paid Stripe invoice finds (or creates) its contact in ``connection``'s organisation."""
    return {"id": f"contact-in-{connection}", "version": 1,
            "description": f"Each paid Stripe invoice's customer as a contact of {connection}.",
            "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
            "steps": [{"id": "contact", "action": "xero.find_or_create_contact", "connection": connection,
                       "input": {"source_id": {"$path": "$.event.data.object.customer"},
                                 "Name": {"$path": "$.event.data.object.customer_name",
                                          "$default": {"$path": "$.event.data.object.customer"}}}}]}


@pytest.fixture
def xero(tmp_path, monkeypatch):
    """``(app, now, tokens, write_config)``: the sandbox with two organisations on a simulated
    clock, its token endpoint behind :class:`Tokens`, and a writer of ledgerlink.toml."""
    monkeypatch.setenv("LEDGERLINK_SECRET_KEY", new_key())
    monkeypatch.setenv("LL_XERO_SECRET", DEFAULT_CLIENT_SECRET)
    monkeypatch.setenv("LL_TEST_WHSEC", WHSEC)
    # simulated, from the wall clock's present: a `ledgerlink connect` process stamps the
    # token's expiry by the wall clock, which moves by seconds while this clock jumps by minutes
    now = [time.time()]
    with contextlib.ExitStack() as opened:
        app = opened.enter_context(running(create_sandbox(tenants=[DEFAULT_TENANT, SECOND], clock=lambda: now[0])))
        tokens = Tokens(f"{app.url}/connect/token")
        tokens_url = opened.enter_context(background(tokens.app)).url

        def write_config(*tables: str) -> str:
            urls = (f'token_url = "{tokens_url}/connect/token"\nconnections_url = "{app.url}/connections"\n'
                    f'api_base = "{app.url}/api.xro/2.0"\n')
            text = '[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
            for table in tables:
                text += f"{table}{urls}\n"
            path = tmp_path / "ledgerlink.toml"
            path.write_text(text)
            return str(path)

        app.authorize = f"{app.url}/identity/connect/authorize"
        yield app, now, tokens, write_config


def two_organisations(xero):
    app, _, _, write_config = xero
    return write_config(
        f'[connections.books-us]\nconnector = "xero"\nclient_id = "{DEFAULT_CLIENT_ID}"\n'
        f'client_secret = "${{LL_XERO_SECRET}}"\nauthorize_url = "{app.authorize}"\ntenant_id = "{DEFAULT_TENANT}"\n',
        f'[connections.books-uk]\nconnector = "xero"\ntoken_set = "books-us"\ntenant_id = "{SECOND}"\n')


def runtime_for(config: str, tmp_path, now, names=()):
    recipes = tmp_path / "recipes"
    recipes.mkdir(exist_ok=True)
    for name in names:
        (recipes / f"{name}.json").write_text(json.dumps(recipe(name)))
    runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=config)
    runtime.connections.clock = lambda: now[0]
    return runtime


def consent(runtime, name: str):
    url = consent_url(runtime.connections, name, "http://127.0.0.1:8080/oauth/callback")
    screen = httpx.get(url)
    assert screen.status_code == 302, screen.text
    client = create_app({"admin_token": ADMIN_TOKEN}, runtime=runtime).test_client()
    return client.get(f"/oauth/callback?{urlparse(screen.headers['location']).query}"), client


def run_all(runtime) -> dict[str, int]:
    worker = Worker(runtime)
    for run in runtime.store.claim(worker.name, 60, 20):
        worker.process(run)
    return runtime.store.counts()


def deliver(runtime, event_id: str) -> None:
    body, headers = signed({**invoice_paid_event("usd", 1250, event_id=event_id)}, WHSEC)
    runtime.inbox.receive("stripe", headers, body)


def organisation(runtime, name: str) -> httpx.Response:
    headers, _ = runtime.connections.credentials(name)
    base = runtime.connections.connection(name).settings["api_base"]
    return httpx.get(f"{base}/Organisation", headers={**headers, "Accept": "application/json"})


def test_one_consent_connects_two_organisations_on_one_token_set(xero, tmp_path, caplog, run_subprocess):
    caplog.set_level(logging.DEBUG)
    _, now, _, _ = xero
    config = two_organisations(xero)
    runtime = runtime_for(config, tmp_path, now, ["books-us", "books-uk"])
    printed = run_subprocess("connect", "books-uk", "--db", runtime.store.url, "--config", config)
    assert "books-uk shares the tokens of 'books-us': this consent connects books-us, books-uk" in printed.stdout
    answer, client = consent(runtime, "books-uk")  # connecting either connects the set
    assert answer.status_code == 200, answer.get_json()
    assert runtime.store.secret_blob("books-uk") is None  # one row holds the token set
    assert runtime.store.secret_blob("books-us")[1] == "ok"
    us, uk = (runtime.connections.credentials(name)[0] for name in ("books-us", "books-uk"))
    assert us["Authorization"] == uk["Authorization"]
    assert (us["xero-tenant-id"], uk["xero-tenant-id"]) == (DEFAULT_TENANT, SECOND)
    rows = {r["name"]: r for r in client.get("/api/connections", headers=AUTH).get_json()["connections"]}
    assert {n: (rows[n]["status"], rows[n]["token_set"], rows[n]["shares_with"]) for n in ("books-us", "books-uk")} == {
        "books-us": ("ok", "books-us", ["books-uk"]), "books-uk": ("ok", "books-us", ["books-us"])}
    deliver(runtime, "evt_sets_1")
    assert run_all(runtime) == {"succeeded": 2}
    secrets = [runtime.connections.secret_box.get("books-us")[key] for key in ("access_token", "refresh_token")]
    records = json.dumps([runtime.store.run(r["id"]) for r in runtime.store.list_runs()], default=str)
    shown = run_subprocess("connections", "--db", runtime.store.url, "--config", config).stdout
    assert [line.split() for line in shown.splitlines() if line.startswith("books-uk")] == [
        ["books-uk", "xero", "ok", "tokens", "of", "books-us"]]
    listed = json.dumps(rows) + shown
    for secret in [*secrets, DEFAULT_CLIENT_SECRET]:
        assert secret not in caplog.text and secret not in records and secret not in listed
    runtime.close()


def test_one_refresh_serves_both_organisations_and_both_see_the_rotation(xero, tmp_path):
    _, now, tokens, _ = xero
    runtime = runtime_for(two_organisations(xero), tmp_path, now)
    consent(runtime, "books-us")
    first = runtime.connections.secret_box.get("books-us")
    now[0] += 26 * 60  # Xero's access token has 4 of its 30 minutes left: inside the refresh margin
    assert organisation(runtime, "books-uk").status_code == 200
    assert organisation(runtime, "books-us").status_code == 200
    assert tokens.grants == ["authorization_code", "refresh_token"]  # one refresh for both
    second = runtime.connections.secret_box.get("books-us")
    assert second["refresh_token"] != first["refresh_token"]
    assert runtime.connections.secrets("books-uk")["access_token"] == second["access_token"]
    now[0] += 10 * 60  # the first access token has expired at Xero; the shared new one serves both
    assert {organisation(runtime, n).status_code for n in ("books-us", "books-uk")} == {200}
    runtime.close()


def test_a_lost_refresh_inside_the_grace_then_invalid_grant_pauses_both_until_one_reconnect(xero, tmp_path):
    _, now, tokens, _ = xero
    runtime = runtime_for(two_organisations(xero), tmp_path, now, ["books-us", "books-uk"])
    consent(runtime, "books-us")
    before = runtime.connections.secret_box.get("books-us")["refresh_token"]
    runtime.connections.expire("books-uk")  # Xero refused the access token: the set is renewed
    tokens.drop = 1  # Xero rotated the refresh token; the answer never arrived
    with pytest.raises(LedgerlinkError, match="HTTP 504"):
        runtime.connections.secrets("books-uk")
    assert runtime.connections.secret_box.get("books-us")["refresh_token"] == before  # nothing half-stored
    now[0] += 29 * 60  # inside Xero's 30 minutes the old refresh token still refreshes
    assert organisation(runtime, "books-us").status_code == 200
    assert organisation(runtime, "books-uk").status_code == 200
    assert runtime.connections.secret_box.get("books-us")["refresh_token"] != before
    # lost again, and this time the grace passes: invalid_grant, both organisations wait
    runtime.connections.expire("books-us")
    tokens.drop = 1
    with pytest.raises(LedgerlinkError):
        runtime.connections.secrets("books-us")
    now[0] += 31 * 60
    deliver(runtime, "evt_sets_2")
    assert run_all(runtime) == {"paused": 2}
    # two lost, one inside the grace, one refused: the run of the second organisation asked no more
    assert tokens.grants.count("refresh_token") == 4
    runs = {r["recipe_id"]: r for r in runtime.store.list_runs()}
    assert "ledgerlink connect books-uk" in runs["contact-in-books-uk"]["last_error"]
    assert "invalid_grant" in runs["contact-in-books-uk"]["last_error"]
    assert "'books-us'" in runs["contact-in-books-uk"]["last_error"]  # the set it shares
    rows = {r["name"]: r for r in connection_rows(runtime)}
    assert {n: (rows[n]["status"], rows[n]["paused_runs"]) for n in ("books-us", "books-uk")} == {
        "books-us": ("needs_reauth", 1), "books-uk": ("needs_reauth", 1)}
    answer, _ = consent(runtime, "books-us")  # one reconnect resumes both
    assert answer.status_code == 200
    assert run_all(runtime) == {"succeeded": 2}
    runtime.close()


def test_two_processes_on_one_database_refresh_the_shared_set_once(xero, tmp_path):
    """Each process asks for a different connection of the set at the same moment; the
    database's lock of the set's row lets one refresh, and the other reads its result (a
    second refresh would also be visible at the token endpoint)."""
    _, now, tokens, _ = xero
    config = two_organisations(xero)
    runtime = runtime_for(config, tmp_path, now)
    consent(runtime, "books-us")
    runtime.connections.expire("books-us")
    start_at = time.time() + 3.0
    script = ("import sys, time\n"
              "from ledgerlink.engine.operations import build_runtime\n"
              "rt = build_runtime(db=sys.argv[1], config_file=sys.argv[2])\n"
              "time.sleep(max(0.0, float(sys.argv[3]) - time.time()))\n"
              "print(rt.connections.secrets(sys.argv[4])['access_token'][-12:], "
              "rt.metrics.values.get('token_refreshes', 0))\n")
    processes = [subprocess.Popen([sys.executable, "-c", script, runtime.store.url, config, str(start_at), name],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name in ("books-us", "books-uk")]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-800:] for _, err in outputs]
    assert len({out.split()[0] for out, _ in outputs}) == 1
    assert sum(int(out.split()[1]) for out, _ in outputs) == 1
    assert tokens.grants == ["authorization_code", "refresh_token"]
    runtime.close()


# --- Custom Connections: the client credentials grant ------------------------------------------

def custom(xero):
    _, _, _, write_config = xero
    return write_config(f'[connections.custom]\nconnector = "xero"\ngrant = "client_credentials"\n'
                        f'client_id = "{DEFAULT_CLIENT_ID}"\nclient_secret = "${{LL_XERO_SECRET}}"\n')


def test_a_custom_connection_connects_without_a_browser_and_asks_again_when_the_token_expires(
        xero, tmp_path, run_subprocess, caplog):
    caplog.set_level(logging.DEBUG)
    _, now, tokens, _ = xero
    config = custom(xero)
    runtime = runtime_for(config, tmp_path, now, ["custom"])
    env = {}  # the fixture's LEDGERLINK_SECRET_KEY and secrets are in this process's environment
    connected = run_subprocess("connect", "custom", "--db", runtime.store.url, "--config", config, env=env)
    assert connected.returncode == 0, connected.stderr
    assert "custom: ok" in connected.stdout and "http" not in connected.stdout  # no consent address
    stored = runtime.connections.secret_box.get("custom")
    assert "refresh_token" not in stored and tokens.grants == ["client_credentials"]
    assert runtime.connections.connection("custom").settings["tenant_id"] == DEFAULT_TENANT  # from /connections
    with pytest.raises(ConfigError, match="needs no consent"):
        consent_url(runtime.connections, "custom", "http://127.0.0.1:8080/oauth/callback")
    deliver(runtime, "evt_custom_1")
    assert run_all(runtime) == {"succeeded": 1}
    now[0] += 31 * 60  # the 30-minute token has expired: a new one is asked before the request
    deliver(runtime, "evt_custom_2")
    assert run_all(runtime) == {"succeeded": 2}
    assert tokens.grants == ["client_credentials", "client_credentials"]
    assert runtime.connections.secret_box.get("custom")["access_token"] != stored["access_token"]
    listed = run_subprocess("connections", "--db", runtime.store.url, "--config", config, "--json", env=env)
    secrets = [stored["access_token"], runtime.connections.secret_box.get("custom")["access_token"],
               DEFAULT_CLIENT_SECRET]
    records = json.dumps([runtime.store.run(r["id"]) for r in runtime.store.list_runs()], default=str)
    for secret in secrets:
        assert secret not in connected.stdout + connected.stderr + listed.stdout + listed.stderr
        assert secret not in caplog.text and secret not in records
    runtime.close()


def test_a_refused_client_pauses_the_runs_with_the_fix_until_connected_again(xero, tmp_path, monkeypatch):
    _, now, tokens, _ = xero
    runtime = runtime_for(custom(xero), tmp_path, now, ["custom"])
    from ledgerlink.io.oauth import connect_client

    assert connect_client(runtime.connections, "custom") == ["custom"]
    monkeypatch.setenv("LL_XERO_SECRET", "a-secret-the-app-no-longer-has")  # rotated in the portal
    now[0] += 31 * 60
    deliver(runtime, "evt_custom_3")
    assert run_all(runtime) == {"paused": 1}
    [run] = runtime.store.list_runs()
    assert "invalid_client" in run["last_error"] and "client_id and client_secret" in run["last_error"]
    assert "ledgerlink connect custom" in run["last_error"] and "a-secret-the-app" not in run["last_error"]
    with pytest.raises(NeedsReauth, match="invalid_client"):
        runtime.connections.secrets("custom")
    with pytest.raises(ConfigError, match="invalid_client") as refused:
        connect_client(runtime.connections, "custom")  # still the wrong secret
    assert "a-secret-the-app" not in str(refused.value)
    monkeypatch.setenv("LL_XERO_SECRET", DEFAULT_CLIENT_SECRET)
    connect_client(runtime.connections, "custom")
    assert run_all(runtime) == {"succeeded": 1}
    runtime.close()
