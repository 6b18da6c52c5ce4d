"""Health, headers and what a caller without a token learns.

A store that cannot take a write (here: the database made read-only under the running
process, SQLite's ``query_only`` or PostgreSQL's ``default_transaction_read_only``, the
refusal a read-only or full database gives) is down in ``/healthz``, logged once when it
starts and once when it ends, and never costs a run an attempt.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event as sa_event

from ledgerlink.web.app import create_app
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.web.servers import background
from ledgerlink.engine.operations import build_runtime
from ledgerlink_sandboxes.quickbooks import create_sandbox
from ledgerlink.testing.databases import ON_POSTGRES
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, recipes_dir, signed, write_config
from ledgerlink.testing.databases import migrated_db
from stripe_events import invoice_paid_event

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
METRICS_TOKEN = "metrics-token-for-tests-77c1"
DOWN = "cannot take writes"
BACK = "takes writes again"


@contextmanager
def read_only(store):
    """Every new connection of ``store`` refuses writes, as a read-only database does, until
    the block ends; connections already pooled are replaced."""
    def refuse_writes(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if store.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    sa_event.listen(store.engine, "connect", refuse_writes)
    store.engine.dispose()
    try:
        yield
    finally:
        sa_event.remove(store.engine, "connect", refuse_writes)
        store.engine.dispose()


def messages(caplog, text):
    return [r for r in caplog.records if text in r.getMessage()]


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                      "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN,
                      "metrics_token": METRICS_TOKEN})
    app.config["LEDGERLINK_RUNTIME"].store.probe_seconds = 0.0  # probe on every request
    yield app
    app.config["LEDGERLINK_RUNTIME"].close()


def test_health_is_down_while_the_store_cannot_take_a_write(app, caplog):
    caplog.set_level(logging.WARNING)
    client = app.test_client()
    store = app.config["LEDGERLINK_RUNTIME"].store
    assert client.get("/healthz").status_code == 200
    with read_only(store):
        down = client.get("/healthz")
        assert down.status_code == 503
        assert down.get_json() == {"error": {"status": 503, "code": "unhealthy",
                                             "message": "down: the store cannot take a write"}}
        detail = client.get("/healthz", headers=AUTH).get_json()["error"]
        assert "readonly" in detail["message"].replace("read-only", "readonly").replace("read only", "readonly")
        assert detail["details"]["store"]["writable"] is False and detail["details"]["store"]["since"]
        body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_health_ro"))
        refused = client.post("/webhooks/stripe", data=body, headers=headers)
        assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "database_unavailable"
        assert client.get("/healthz").status_code == 503
    up = client.get("/healthz")
    assert up.status_code == 200 and up.get_json() == {"status": "ok"}
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200  # the resend
    # one warning when it started, one when it ended: not one per request
    assert len(messages(caplog, DOWN)) == 1 and len(messages(caplog, BACK)) == 1


def test_a_store_that_stops_taking_writes_mid_run_costs_the_run_no_attempt(tmp_path, monkeypatch, caplog):
    """The write that records a step's answer fails: the run waits for the store and goes on
    when it is back, its attempt uncounted; the step is sent again with its idempotency key,
    so QuickBooks has one entry; no traceback, no "failed unexpectedly"."""
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    sandbox_app = create_sandbox(rate_limit=False)
    state = {"runtime": None, "read_only": None, "writes": 0}

    def vendor(environ, start_response):
        # QuickBooks answers; by then the database has become read-only under the worker
        answer = sandbox_app(environ, start_response)
        if environ["REQUEST_METHOD"] == "POST" and state["read_only"] is None:
            state["writes"] += 1
            state["read_only"] = read_only(state["runtime"].store)
            state["read_only"].__enter__()
        return answer

    with background(vendor) as qbo:
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes_dir(tmp_path),
                                config_file=str(write_config(tmp_path, qbo.url)),
                                settings=Settings(lease_seconds=1.0, backoff_base=0.05, backoff_cap=0.5))
        runtime.store.probe_seconds = 0.1
        state["runtime"] = runtime
        pool = WorkerPool(runtime, 1)
        try:
            body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_health_mid_run"))
            runtime.inbox.receive("stripe", headers, body)
            pool.start()
            deadline = time.monotonic() + 30
            while not messages(caplog, DOWN) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert messages(caplog, DOWN), "the store's state was never logged"
            time.sleep(1.5)  # longer than the lease: a counted retry would have happened by now
            state["read_only"].__exit__(None, None, None)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and runtime.store.counts() != {"succeeded": 1}:
                time.sleep(0.05)
            run = runtime.store.list_runs()[0]
        finally:
            pool.stop()
            runtime.close()
    assert run["status"] == "succeeded" and run["attempts"] == 1, run
    entries = [e for e in sandbox_app.sandbox.entities("9130350000000000", "journalentry")
               if "evt_health_mid_run" in e.get("PrivateNote", "")]
    assert len(entries) == 1
    assert len(messages(caplog, DOWN)) == 1 and len(messages(caplog, BACK)) == 1
    assert not messages(caplog, "unexpectedly") and not messages(caplog, "cannot reschedule")
    assert not [r for r in caplog.records if r.exc_info]


FULL_DISK = r"""
import json, logging, os, resource, sys
from ledgerlink.store import Store

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stdout)
url, folder = sys.argv[1], sys.argv[2]
store = Store(url)
store.probe_seconds = 0.0
store.ingest("stripe", [("evt_small", "stripe.invoice.paid", "{}", [])])
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
# the disk is full: no file of the database may grow any more
resource.setrlimit(resource.RLIMIT_FSIZE, (max(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                                               if f.startswith("health.db")), hard))
seen = {"first": store.health().writable}
try:
    for n in range(100):  # deliveries of 20 kB until one no longer fits
        store.ingest("stripe", [(f"evt_big_{n}", "stripe.invoice.paid", '"' + "x" * 20000 + '"', [])])
    seen["refused"] = False
except Exception as exc:
    seen["refused"] = type(exc).__name__
# a few pages of room: what a refused delivery left over depends on the schema's size
limit = max(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder) if f.startswith("health.db"))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit + 4 * 4096, hard))
store.set_cursor("small", "a small write still fits")
seen["after_small_write"] = store.health().writable
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again
seen["room_again"] = store.health().writable
print(json.dumps(seen))
"""


@pytest.mark.skipif(ON_POSTGRES, reason="a file size limit of this process cannot fill the PostgreSQL server's disk")
def test_a_full_disk_is_down_until_a_delivery_fits_again(tmp_path):
    """The kernel refuses to grow the database's files (RLIMIT_FSIZE, as a full disk refuses):
    the delivery that does not fit marks the store down, a small write that still fits does
    not bring it back, and room again does."""
    url = migrated_db(tmp_path)
    folder = tmp_path / "disk"
    folder.mkdir()
    path = folder / "health.db"
    shutil.copy(url.removeprefix("sqlite:///"), path)
    result = subprocess.run([sys.executable, "-c", FULL_DISK, f"sqlite:///{path}", str(folder)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert json.loads(lines[-1]) == {"first": True, "refused": "OperationalError", "after_small_write": False,
                                     "room_again": True}
    assert len([line for line in lines if DOWN in line]) == 1 and len([line for line in lines if BACK in line]) == 1


# --- headers and disclosure -----------------------------------------------------------------

def test_every_answer_is_nosniff_and_no_store(app):
    client = app.test_client()
    body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_headers"))
    answers = [client.get("/healthz"), client.get("/healthz", headers=AUTH), client.get("/metrics", headers=AUTH),
               client.get("/metrics"), client.get("/openapi.json"), client.get("/api/runs"),
               client.get("/api/runs", headers=AUTH), client.get("/nope"), client.delete("/healthz"),
               client.post("/webhooks/stripe", data=body, headers=headers),
               client.post("/webhooks/stripe", data=body, headers={**headers, "Stripe-Signature": "t=1,v1=00"})]
    for answer in answers:
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", answer.request.path
        assert answer.headers.get("Cache-Control") == "no-store", answer.request.path


def test_without_a_token_health_says_up_or_down_and_metrics_are_refused(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    detail = client.get("/healthz", headers=AUTH).get_json()
    assert detail["version"] and detail["recipes"] == 2 and detail["runs"] == {} and detail["warnings"] == []
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"
        assert "quickbooks" not in refused.get_data(as_text=True)
    for token in (METRICS_TOKEN, ADMIN_TOKEN):
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert scraped.status_code == 200
        assert 'ledgerlink_connection_needs_reauth{connection="quickbooks"}' in scraped.get_data(as_text=True)
    spec = client.get("/openapi.json").get_json()["paths"]
    assert "401" in spec["/metrics"]["get"]["responses"] and "503" in spec["/healthz"]["get"]["responses"]


def test_metrics_token_is_optional_the_admin_token_is_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGERLINK_METRICS_TOKEN", raising=False)
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                      "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
        assert client.get("/metrics", headers=AUTH).status_code == 200
    finally:
        app.config["LEDGERLINK_RUNTIME"].close()


def test_metrics_on_an_address_of_their_own(app, monkeypatch):
    from ledgerlink.web.metrics import metrics_app

    monkeypatch.delenv("LEDGERLINK_METRICS_TOKEN", raising=False)
    import httpx

    with background(metrics_app(app.config["LEDGERLINK_RUNTIME"])) as running:
        scraped = httpx.get(f"{running.url}/metrics", trust_env=False)
        assert scraped.status_code == 200 and "ledgerlink_runs_planned_total" in scraped.text
        assert scraped.headers["Cache-Control"] == "no-store"
        other = httpx.get(f"{running.url}/api/runs", trust_env=False)
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
