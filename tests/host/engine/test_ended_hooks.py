"""ledgerlink_run_ended and ledgerlink_fetch_ended: a plugin hears how each run and fetch ended.

A real plugin is registered next to the built-in connectors; runs go to the QuickBooks
sandbox on loopback, which answers as QuickBooks does (a validation fault, a 500).
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from review_recipe import ENTRY_RECIPE
from runtime_fixtures import QBO_TOKEN, recipes_dir, signed, write_config
from stripe_events import invoice_paid_event

REALM = "9130350000000000"


class Alerts:
    """What an alerting plugin sees: every ended run and fetch, in order."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, str, str | None]] = []
        self.fetches: list[tuple[str, str, str | None]] = []

    @hookimpl
    def ledgerlink_run_ended(self, run, outcome, error):
        self.runs.append((run.id, outcome, error))

    @hookimpl
    def ledgerlink_fetch_ended(self, fetch, outcome, error):
        self.fetches.append((fetch.event_id, outcome, error))


class Broken:
    """A plugin whose hook raises, and one that takes fewer arguments than the spec lists."""

    @hookimpl
    def ledgerlink_run_ended(self, outcome):
        raise RuntimeError(f"the pager is down ({outcome})")


@pytest.fixture
def make_runtime(tmp_path, monkeypatch, qbo, sandbox):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    made = []

    def make(alerts: Alerts, max_attempts: int = 8, recipes=None) -> Runtime:
        # registered in this order: the broken plugin is told first, and the alerts still hear
        catalog = load_catalog(build_plugin_manager(extra=[("alerts", alerts), ("broken", Broken())]))
        config = load_config(write_config(tmp_path, qbo.url, REALM), catalog)
        runtime = Runtime(catalog, config, Store(migrated_db(tmp_path)), recipes or recipes_dir(tmp_path),
                          Settings(max_attempts=max_attempts, backoff_base=0.01, backoff_cap=0.01))
        runtime.registry.reload()
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def run_one(runtime: Runtime, event_id: str) -> tuple[int, str]:
    """Deliver one paid invoice and let one worker take the one attempt its run is due for."""
    body, headers = signed(invoice_paid_event("usd", 5000, event_id=event_id))
    runtime.inbox.receive("stripe", headers, body)
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim(worker.name, 60, 1)
    return claimed.id, worker.process(claimed)


def test_a_plugin_hears_a_run_that_succeeds_and_one_that_fails_after_each_is_stored(make_runtime, sandbox, caplog):
    state = sandbox
    alerts = Alerts()
    runtime = make_runtime(alerts)
    run_id, status = run_one(runtime, "evt_hook_ok")
    assert status == "succeeded" and alerts.runs == [(run_id, "succeeded", None)]
    assert runtime.store.run(run_id)["status"] == "succeeded"
    # the broken plugin's exception is logged with its name; the outcome stands
    assert any("plugin 'broken'" in r.getMessage() and r.exc_info for r in caplog.records)

    state.script([{"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000",
                   "match": {"entity": "journalentry"}}])
    failed_id, status = run_one(runtime, "evt_hook_refused")
    assert status == "failed" and runtime.store.run(failed_id)["status"] == "failed"
    (heard,) = alerts.runs[1:]
    assert heard[:2] == (failed_id, "failed") and "the account is inactive" in heard[2]
    assert heard[2] == runtime.store.run(failed_id)["last_error"]


def test_a_plugin_hears_each_retry_and_the_run_going_dead(make_runtime, sandbox):
    state = sandbox
    state.script([{"status": 500, "match": {"entity": "journalentry"}}] * 2)
    alerts = Alerts()
    runtime = make_runtime(alerts, max_attempts=2)
    run_id, status = run_one(runtime, "evt_hook_dead")
    assert status == "retrying" and alerts.runs[0][:2] == (run_id, "retrying")
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim(worker.name, 60, 1, now=time.time() + 60)
    assert worker.process(claimed) == "dead"
    assert alerts.runs[1][:2] == (run_id, "dead") and "gave up after 2 attempts" in alerts.runs[1][2]
    assert runtime.store.run(run_id)["status"] == "dead"


def test_a_plugin_hears_how_a_fetch_ended(make_runtime, caplog):
    alerts = Alerts()
    runtime = make_runtime(alerts)
    caplog.set_level(logging.WARNING, "ledgerlink")
    # stored escaped, as the inbox kept such text before it refused it at the door: it fails at once
    text = '{"realm_id": "%s", "entity": "Payment", "entity_id": "1\\ud800"}' % REALM
    runtime.store.ingest("quickbooks", [("evt_hook_fetch", "quickbooks.payment.created", text, [], True)])
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim_fetches(worker.name, 60, 1)
    assert worker.fetch(claimed) == "failed" and runtime.store.fetch_counts() == {"failed": 1}
    (heard,) = alerts.fetches
    assert heard[:2] == ("evt_hook_fetch", "failed") and "cannot be read" in heard[2]
    assert alerts.runs == []


def test_a_plugin_hears_a_run_that_awaits_review_and_then_how_it_ended(make_runtime, tmp_path, sandbox):
    """A recipe with ``"review": true``: the first attempt ends ``awaiting_review`` (nothing
    sent), and the plugin hears it; approved, the run is performed and heard again."""
    folder = tmp_path / "reviewed"
    folder.mkdir()
    (folder / "entry.json").write_text(json.dumps(ENTRY_RECIPE))
    alerts = Alerts()
    runtime = make_runtime(alerts, recipes=folder)
    run_id, status = run_one(runtime, "evt_hook_review")
    assert status == "awaiting_review" and alerts.runs == [(run_id, "awaiting_review", None)]
    assert runtime.store.run(run_id)["status"] == "awaiting_review"
    assert [r for r in sandbox.requests() if r["method"] == "POST"] == []
    assert runtime.store.approve([run_id], "ada") == {run_id: (True, "pending")}
    worker = Worker(runtime)
    (claimed,) = runtime.store.claim(worker.name, 60, 1)
    assert worker.process(claimed) == "succeeded"
    assert alerts.runs[1:] == [(run_id, "succeeded", None)]
