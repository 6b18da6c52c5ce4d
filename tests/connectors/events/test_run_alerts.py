"""ledgerlink.run.failed and ledgerlink.run.dead: one event at a recipe's first failure of an
alert window, one summary with the count when the window ends, and recipes on them run.

Real runs: paid invoices whose journal entry the QuickBooks sandbox on loopback refuses,
performed by a real worker; the alert recipe appends a row to a CSV file through the files
connector. The host's clock is simulated (the alert window ends when the test says).
SQLite, and PostgreSQL under LEDGERLINK_TEST_DB.
"""

from __future__ import annotations

import csv

import pytest

from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import Worker
from ledgerlink.store import Store
from ledgerlink.testing.databases import migrated_db
from alert_runtime import MORNING, Clock, alert_recipe, drain, host_events, write_recipes
from runtime_fixtures import QBO_TOKEN, recipes_dir, signed, write_config
from stripe_events import invoice_paid_event

REALM = "9130350000000000"
REFUSED = {"fault": "validation", "message": "Scripted: the account is inactive", "code": "6000",
           "match": {"entity": "journalentry"}}
JOURNAL = "stripe-invoice-paid-to-quickbooks-journal"


@pytest.fixture
def runtime(tmp_path, monkeypatch, qbo, sandbox):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_TOKEN)
    catalog = load_catalog()
    config = write_config(tmp_path, qbo.url, REALM)
    (tmp_path / "alerts").mkdir()
    config.write_text(config.read_text() + f'\n[connections.files]\nconnector = "files"\nfolder = "{tmp_path / "alerts"}"\n'
                      f'\n[connections.nowhere]\nconnector = "files"\nfolder = "{tmp_path / "missing"}"\n'
                      '\n[alerts]\ninterval_seconds = 600\n')
    recipes = recipes_dir(tmp_path, names=(f"{JOURNAL}.json",))
    write_recipes(recipes, alert_recipe("failures-to-csv", "ledgerlink.run.failed", "files", "failed.csv"),
                  alert_recipe("dead-to-csv", "ledgerlink.run.dead", "files", "dead.csv"),
                  # fails on every run (its folder does not exist): an alert that never alerts of itself
                  alert_recipe("failures-nowhere", "ledgerlink.run.failed", "nowhere", "failed.csv"))
    rt = Runtime(catalog, load_config(config, catalog), Store(migrated_db(tmp_path)), recipes,
                 Settings(max_attempts=1))
    rt.registry.reload()
    rt.host.clock = Clock()
    rt.folder = tmp_path / "alerts"
    yield rt
    rt.close()


def pay(runtime: Runtime, *event_ids: str) -> None:
    for event_id in event_ids:
        body, headers = signed(invoice_paid_event("usd", 5000, event_id=event_id))
        runtime.inbox.receive("stripe", headers, body)


def rows(path) -> list[list[str]]:
    """The rows of an alert file, without the header and the key column."""
    return [row[:4] for row in csv.reader(path.read_text().splitlines())][1:]


def test_three_failures_raise_one_event_at_once_and_one_summary_when_the_window_ends(runtime, sandbox):
    sandbox.script([REFUSED] * 3)
    pay(runtime, "evt_fail_1", "evt_fail_2", "evt_fail_3")
    outcomes = drain(runtime)
    # three journal runs failed; the first raised one event, whose two recipes ran: one
    # wrote its row, the other gave up (no folder) and raised nothing about itself
    assert sorted(outcomes) == ["dead"] + ["failed"] * 3 + ["succeeded"]
    failed_runs = sorted(r["id"] for r in runtime.store.list_runs() if r["recipe_id"] == JOURNAL)
    (first,) = host_events(runtime)
    assert first["event_id"] == f"run.failed:{JOURNAL}:2026-05-01T07:00:00Z:first"
    assert (first["trigger"], first["connection"], first["type"]) == ("ledgerlink.run.failed", "ledgerlink",
                                                                       "ledgerlink.run.failed")
    data = first["data"]
    assert data["stage"] == "first" and data["count"] == 1 and data["recipe_id"] == JOURNAL
    assert data["first_run_id"] == data["last_run_id"] == failed_runs[0]
    assert data["window_start"] == "2026-05-01T07:00:00Z" and data["window_end"] == "2026-05-01T07:10:00Z"
    assert "the account is inactive" in data["error"] and data["error_count"] == 1
    assert data["fix"] == (f"ledgerlink runs show {failed_runs[0]}; once the cause is fixed, "
                           f"ledgerlink runs replay {failed_runs[0]}")
    assert rows(runtime.folder / "failed.csv") == [[first["event_id"], JOURNAL, "1", data["error"]]]

    worker = Worker(runtime)
    runtime.host.clock.now = MORNING + 599  # the window has not ended: nothing more
    worker.side_work()
    assert len(host_events(runtime)) == 1
    runtime.host.clock.now = MORNING + 600
    worker._next_look = 0.0
    worker.side_work()
    first_again, summary = host_events(runtime)
    assert summary["event_id"] == f"run.failed:{JOURNAL}:2026-05-01T07:00:00Z:summary"
    assert summary["occurred_at"] == "2026-05-01T07:10:00Z"
    assert summary["data"] == {
        "recipe_id": JOURNAL, "stage": "summary", "count": 2, "total": 3, "first_run_id": failed_runs[0],
        "last_run_id": failed_runs[2], "window_start": "2026-05-01T07:00:00Z",
        "window_end": "2026-05-01T07:10:00Z", "error": data["error"], "error_count": 3,
        "fix": f"ledgerlink runs list --status failed (runs {failed_runs[0]} to {failed_runs[2]}); once the "
               f"cause is fixed, ledgerlink runs replay each"}
    assert sorted(drain(runtime)) == ["dead", "succeeded"]
    assert rows(runtime.folder / "failed.csv")[1] == [summary["event_id"], JOURNAL, "2", data["error"]]
    # the window is settled: later ticks, in this process or another, raise nothing again
    runtime.host.clock.now = MORNING + 900
    Worker(runtime).side_work()
    assert len(host_events(runtime)) == 2


def test_one_failure_raises_no_summary_and_the_next_window_starts_again(runtime, sandbox):
    sandbox.script([REFUSED] * 2)
    pay(runtime, "evt_once_1")
    drain(runtime)
    runtime.host.clock.now = MORNING + 700  # the next window
    Worker(runtime).side_work()
    pay(runtime, "evt_once_2")
    drain(runtime)
    assert [e["event_id"] for e in host_events(runtime)] == [
        f"run.failed:{JOURNAL}:2026-05-01T07:00:00Z:first", f"run.failed:{JOURNAL}:2026-05-01T07:10:00Z:first"]


def test_a_run_that_gives_up_raises_run_dead(runtime, sandbox):
    sandbox.script([{"status": 500, "match": {"entity": "journalentry"}}])
    pay(runtime, "evt_dead_1")
    assert sorted(drain(runtime)) == ["dead", "succeeded"]
    (dead,) = host_events(runtime)
    assert dead["event_id"] == f"run.dead:{JOURNAL}:2026-05-01T07:00:00Z:first"
    assert dead["trigger"] == "ledgerlink.run.dead" and dead["data"]["stage"] == "first"
    assert dead["data"]["error"].startswith("gave up after 1 attempts")
    assert rows(runtime.folder / "dead.csv")[0][:3] == [dead["event_id"], JOURNAL, "1"]
