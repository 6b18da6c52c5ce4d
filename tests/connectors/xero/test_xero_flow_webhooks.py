"""Xero's webhooks end to end: the Xero sandbox posts to ``ledgerlink serve``'s webhook URL over
loopback HTTP, as Xero posts to an app's.

serve's app (the web server on a real port, and its workers) on a fresh SQLite database, two
organisations each a connection of its own (:mod:`xero_flow`), and the sandbox's webhook
pointed at ``/webhooks/xero``: Intent to Receive passes with the connection's key and fails
with another; each change made in Xero through its API arrives signed with ids only, is
stored before anything is read, fetched through the host's governed sender and plans one run
per recipe per state — counted exactly after each change; a batch of two organisations goes
each event to its own organisation's connection; every batch delivered again changes nothing.
Nothing is timed: the tests wait for deliveries and runs, never measure them.
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.xero import DEFAULT_TENANT, create_sandbox
import xero_flow as flow


class Gate:
    """serve's app behind a gate: while closed, every delivery is answered 503 unread (Xero
    retries it, with whatever was queued since); while open, passed on, and each body ledgerlink
    acknowledged kept with its headers."""

    def __init__(self) -> None:
        self.app: Any = None
        self.open = threading.Event()
        self.open.set()
        self.delivered: list[tuple[bytes, dict[str, str]]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if not self.open.is_set():
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        stream = environ["wsgi.input"]
        body = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = _Body(body)
        answered: list[str] = []

        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            answered.append(status)
            return start_response(status, headers, exc_info)

        result = list(self.app(environ, start))
        if answered and answered[0].startswith("200") and environ["PATH_INFO"].startswith("/webhooks/"):
            with self._lock:
                self.delivered.append((body, {"x-xero-signature": environ.get("HTTP_X_XERO_SIGNATURE", ""),
                                              "Content-Type": "application/json"}))
        return result


class _Body:
    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, *args: Any) -> bytes:
        return self._stream.read(*args)

    def readline(self, *args: Any) -> bytes:
        return self._stream.readline(*args)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(sandbox, the webhook URL, runtime, gate): serve's app on loopback, the sandbox beside it."""
    flow.environment(monkeypatch)
    gate = Gate()
    app = create_sandbox(tenants=list(flow.TENANTS.values()), rate_limit=True)
    with running(app) as xero, background(gate) as serve:
        runtime = flow.runtime(tmp_path, xero.url)
        gate.app = create_app(runtime=runtime)
        try:
            yield xero, f"{serve.url.rstrip('/')}/webhooks/xero", runtime, gate
        finally:
            app.sandbox.set_webhooks(None, None)
            runtime.close()


def delivered(xero, timeout: float = 30.0) -> None:
    """Wait (not measure) until the sandbox has no event left to deliver."""
    deadline = time.monotonic() + timeout
    while xero.sandbox.stats()["webhooks_pending"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert xero.sandbox.stats()["webhooks_pending"] == 0


def reads_of(xero, collection: str, ident: str) -> list[dict]:
    return [r for r in xero.sandbox.requests() if r["method"] == "GET" and r["path"] == f"/{collection}/{ident}"]


def test_intent_to_receive_passes_with_the_connections_key_and_fails_with_another(served):
    xero, url, runtime, _ = served
    passed = httpx.post(f"{xero.url}/__sandbox/webhooks/intent", json={"url": url, "key": flow.KEY}).json()
    assert passed["passed"] is True
    assert [(p["signed"], p["status"]) for p in passed["posts"]] == [(True, 200), (False, 401), (True, 200),
                                                                      (False, 401)]
    wrong = httpx.post(f"{xero.url}/__sandbox/webhooks/intent", json={"url": url, "key": "another-apps-key"}).json()
    assert wrong["passed"] is False  # Xero would leave the webhook not ready
    assert [p["status"] for p in wrong["posts"]] == [401, 401, 401, 401]
    assert runtime.store.count_events() == 0


def test_each_change_in_xero_arrives_signed_is_fetched_and_runs_each_recipe_once_per_state(served):
    xero, url, runtime, gate = served
    xero.sandbox.set_webhooks(url, flow.KEY, (0.05,))
    a, b = (flow.Organisation(xero.url, tenant) for tenant in flow.TENANTS.values())

    # stored before anything is read: no worker yet, the notification waits for its fetch
    acme = a.contact("Acme", "cus_acme")
    delivered(xero)
    assert runtime.store.count_events() == 1 and runtime.store.fetch_counts() == {"pending": 1}
    assert reads_of(xero, "Contacts", acme["ContactID"]) == []
    assert flow.per_recipe(runtime) == Counter()

    pool = WorkerPool(runtime, 2)
    pool.start()
    try:
        expected: Counter = Counter()

        def step(change: Any, *runs: str) -> Any:
            made = change()
            delivered(xero)
            flow.settle(runtime)
            expected.update(runs)
            assert flow.per_recipe(runtime) == expected
            return made

        step(lambda: None, "contact-created")
        # the fetch was the host's: the connection's token and organisation, one read
        [read] = reads_of(xero, "Contacts", acme["ContactID"])
        assert (read["tenant"], read["status"]) == (DEFAULT_TENANT, 200)
        invoice = step(lambda: a.invoice(acme, "100.00"), "invoice-created")
        # a payment recorded in Xero: an update of its invoice with a higher AmountPaid
        step(lambda: a.pay(invoice, "40.00"), "invoice-updated", "payment-recorded")
        step(lambda: a.pay(invoice, "60.00"), "invoice-updated", "payment-recorded")
        step(lambda: a.credit_note(acme, "10.00"), "credit-note-created")
        step(lambda: a.edit_contact(acme, "ap@acme.test"), "contact-updated")
        paid = [run["event"]["data"]["AmountPaid"] for run in flow.runs(runtime) if run["recipe_id"] == "payment-recorded"]
        assert sorted(paid) == [Decimal("40.00"), Decimal("100.00")]

        # one batch of two organisations: each event to its own organisation's connection
        gate.open.clear()
        beta = b.contact("Beta", "cus_beta")
        b.invoice(beta, "7.00")
        a.edit_contact(acme, "billing@acme.test")
        time.sleep(0.2)  # let the sandbox find the door shut at least once (not measured)
        before = len(gate.delivered)
        gate.open.set()
        step(lambda: None, "contact-created-b", "invoice-created-b", "contact-updated")
        batches = [jsonio.loads(body) for body, _ in gate.delivered[before:]]
        assert any({e["tenantId"] for e in batch["events"]} == set(flow.TENANTS.values()) for batch in batches)
        connections = {run["recipe_id"]: run["connection"] for run in flow.runs(runtime)}
        assert (connections["contact-created-b"], connections["contact-created"]) == ("xero_b", "xero")

        # every batch delivered again (Xero retries until it gets its 200): nothing changes
        events, fetches = runtime.store.count_events(), runtime.store.fetch_counts()
        with httpx.Client() as client:
            for body, headers in list(gate.delivered):
                again = client.post(url, content=body, headers=headers)
                assert (again.status_code, again.content) == (200, b"")
        flow.settle(runtime)
        assert runtime.store.count_events() == events and runtime.store.fetch_counts() == fetches
        assert flow.per_recipe(runtime) == expected
    finally:
        pool.stop()
    flow.check_runs(runtime)
    # every read ledgerlink made (the fetches, the runs' lookups) went through the governor's
    # slots, which count what they send; the test's own changes are the PUTs and POSTs
    reads = [r for r in xero.sandbox.requests() if r["method"] == "GET"]
    assert runtime.metrics.values["requests_sent"] == len(reads) > 0
    assert xero.sandbox.stats()["throttled"] == 0  # the governor kept each organisation inside Xero's limits

