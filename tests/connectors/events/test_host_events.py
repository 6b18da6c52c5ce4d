"""ledgerlink.webhook.rejected_burst, ledgerlink.connection.needs_reauth and
ledgerlink.reconcile.drift: each raised once with its data, where the host says it happened.

The burst arrives over real HTTP on loopback (``ledgerlink serve``'s app, waitress); the
refused key is refused by the Stripe sandbox on loopback to a real worker. The host's clock
is simulated. SQLite, and PostgreSQL under LEDGERLINK_TEST_DB.
"""

from __future__ import annotations

import json

import httpx
import pytest

from ledgerlink.engine.events import call_hook
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from ledgerlink_sandboxes.stripe import create_sandbox
from alert_runtime import MORNING, Clock, drain, host_events
from runtime_fixtures import signed
from stripe_events import invoice_paid_event

MARK_PAID = {
    "id": "stripe-invoice-paid-mark-paid", "version": 1,
    "description": "Mark the Stripe invoice of an event paid out of band.",
    "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
    "steps": [{"id": "pay", "action": "stripe.mark_invoice_paid", "connection": "stripe",
               "input": {"invoice": {"$path": "$.event.data.object.id"}}}],
}


@pytest.fixture
def stripe(tmp_path, monkeypatch):
    """A runtime whose Stripe connection's key the Stripe sandbox refuses; bursts of 5 refused
    deliveries within 60 seconds alert."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_STRIPE_KEY", "sk_test_rolled")
    with running(create_sandbox(seed="alerts", api_keys=["sk_test_current"])) as served:
        config = tmp_path / "ledgerlink.toml"
        config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n'
                          f'api_key = "${{LL_STRIPE_KEY}}"\napi_base = "{served.url}"\n\n'
                          '[alerts]\ninterval_seconds = 3600\nrejected_burst = 5\nburst_seconds = 60\n')
        recipes = tmp_path / "recipes"
        recipes.mkdir()
        (recipes / "mark-paid.json").write_text(json.dumps(MARK_PAID))
        runtime = build_runtime(db=migrated_db(tmp_path), recipes=recipes, config_file=str(config),
                                settings=Settings())
        runtime.host.clock = Clock()
        try:
            yield runtime
        finally:
            runtime.close()


def test_a_burst_of_bad_signatures_over_http_raises_one_rejected_burst_event(stripe):
    runtime = stripe
    body, headers = signed(invoice_paid_event("usd", 1200, event_id="evt_burst_good"))
    with background(create_app(runtime=runtime)) as served, httpx.Client(base_url=served.url) as client:
        answers = [client.post("/webhooks/stripe", content=body,
                               headers={**headers, "Stripe-Signature": f"t=1,v1={'0' * 64}"}).status_code
                   for _ in range(4)]
        assert answers == [401] * 4 and host_events(runtime) == []  # 4 of 5: no burst yet
        answers = [client.post("/webhooks/stripe", content=b"{not json", headers=headers).status_code]
        answers += [client.post("/webhooks/stripe", content=body,
                                headers={**headers, "Stripe-Signature": "garbage"}).status_code for _ in range(6)]
        assert answers[0] in (400, 401) and answers[1:] == [401] * 6
        # a good delivery is stored and is no refusal
        assert client.post("/webhooks/stripe", content=body, headers=headers).status_code == 200
    (burst,) = host_events(runtime)
    assert burst["event_id"] == "webhook.rejected_burst:stripe:2026-05-01T07:00:00Z"
    assert burst["trigger"] == "ledgerlink.webhook.rejected_burst" and burst["connection"] == "ledgerlink"
    data = burst["data"]
    assert data["connection"] == "stripe" and data["count"] == 5
    assert (data["window_start"], data["window_end"]) == ("2026-05-01T07:00:00Z", "2026-05-01T07:01:00Z")
    assert "signature" in data["reason"].lower() and "signing secret" in data["fix"]
    assert "whsec_test_secret" not in json.dumps(burst)

    # the next window's burst is an event of its own
    runtime.host.clock.now = MORNING + 60
    bad = {**headers, "Stripe-Signature": "garbage"}
    with background(create_app(runtime=runtime)) as served, httpx.Client(base_url=served.url) as client:
        assert [client.post("/webhooks/stripe", content=body, headers=bad).status_code for _ in range(5)] == [401] * 5
    assert [e["event_id"] for e in host_events(runtime)][1:] == ["webhook.rejected_burst:stripe:2026-05-01T07:01:00Z"]


def test_a_refused_key_raises_needs_reauth_once_for_all_it_parks(stripe):
    runtime = stripe
    for number in (1, 2, 3):
        body, headers = signed(invoice_paid_event("usd", 1200, event_id=f"evt_reauth_{number}"))
        runtime.inbox.receive("stripe", headers, body)
    # the connection fetches each invoice first, then runs mark it paid: the vendor refuses
    # the key, and the runs wait for it, parked
    assert Worker(runtime).side_work() == 3
    assert drain(runtime) == ["paused"] * 3
    (reauth,) = host_events(runtime)
    assert reauth["event_id"] == "connection.needs_reauth:stripe:2026-05-01T07:00:00Z"
    assert reauth["trigger"] == "ledgerlink.connection.needs_reauth"
    data = reauth["data"]
    assert data["connection"] == "stripe" and data["fix"] == "ledgerlink connect stripe"
    assert "needs a new key" in data["reason"] and "sk_test_rolled" not in json.dumps(reauth)


def test_a_reconciliation_with_discrepancies_raises_drift_once(stripe):
    runtime = stripe
    summary = {"connection": "books", "since": "2026-04-01", "until": "2026-04-30", "discrepancies": 2,
               "by_kind": {"missing": 1, "amount": 1}}
    call_hook(runtime, "ledgerlink_reconcile_ended", report_summary={**summary, "discrepancies": 0, "by_kind": {}})
    assert host_events(runtime) == []  # both sides agree: nothing to say
    call_hook(runtime, "ledgerlink_reconcile_ended", report_summary=summary)
    call_hook(runtime, "ledgerlink_reconcile_ended", report_summary=summary)  # the same, again
    (drift,) = host_events(runtime)
    assert drift["event_id"] == "reconcile.drift:books:2026-04-01:2026-04-30:2026-05-01T07:00:00Z"
    kinds = [{"kind": "missing", "count": 1}, {"kind": "amount", "count": 1}]  # a summary without other ledgers
    assert drift["data"] == {**summary, "kinds": kinds,
                             "ledgers": [{"connection": "books", "discrepancies": 2, "kinds": kinds}],
                             "fix": "ledgerlink reconcile --since 2026-04-01 --until 2026-04-30 --connection books"}
