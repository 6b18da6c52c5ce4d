"""File effects through the real host: dry-run shows them, workers perform them, a worker
killed between the write and the step's acknowledgement does not make the retry write twice.

The connector is ``filedrop`` (filedrop_connector.py beside this file), registered as an
extra plugin; events come from Stripe's webhook, signed as Stripe signs them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from filedrop_connector import catalog as filedrop_catalog, recipe
from ledgerlink.config import load_config
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.errors import FileEffectError
from ledgerlink.recipes.recipe import check_recipe
from ledgerlink.contract import IncomingEvent
from ledgerlink.store import Store
from ledgerlink.web.servers import background
from runtime_fixtures import WEBHOOK_SECRET, signed, working
from ledgerlink.testing.databases import migrated_db
from stripe_events import invoice_paid_event

HERE = Path(__file__).resolve().parent
API_KEY = "fd_live_5ecret_value"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """(catalog, config file, recipes folder, books folder) for a ``files`` connection."""
    monkeypatch.setenv("LL_TEST_WHSEC", WEBHOOK_SECRET)
    monkeypatch.setenv("LL_FD_KEY", API_KEY)
    (tmp_path / "books").mkdir()
    recipes = tmp_path / "recipes"
    recipes.mkdir()

    def configure(notify_url: str | None = None, **recipe_args) -> tuple:
        (recipes / "invoice-paid-to-file.json").write_text(json.dumps(recipe(**recipe_args)))
        config = tmp_path / "ledgerlink.toml"
        config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${LL_TEST_WHSEC}"\n\n'
                          f'[connections.files]\nconnector = "filedrop"\nfolder = "{tmp_path}"\n'
                          'api_key = "${LL_FD_KEY}"\n' + (f'notify_url = "{notify_url}"\n' if notify_url else ""))
        return filedrop_catalog(), config, recipes, tmp_path / "books"

    return configure


def runtime_for(catalog, config, recipes, db, lease: float = 60.0) -> Runtime:
    runtime = Runtime(catalog, load_config(config, catalog), Store(db), recipes,
                      Settings(lease_seconds=lease, backoff_base=0.05, backoff_cap=0.2))
    runtime.registry.reload()
    return runtime


def settle(runtime: Runtime, expected: dict[str, int], timeout: float = 60.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runtime.store.counts() == expected:
            return expected
        time.sleep(0.05)
    raise AssertionError(runtime.store.counts())


def compiled(catalog, config, raw):
    built, problems = check_recipe(raw, "invoice-paid-to-file.json", catalog, load_config(config, catalog))
    assert built is not None, problems
    return built


def test_dry_run_shows_a_file_effect_as_it_shows_a_request_and_writes_nothing(setup):
    catalog, config, recipes, books = setup()
    event = invoice_paid_event("usd", 1250, event_id=f"evt_{API_KEY}")
    built = compiled(catalog, config, recipe())
    report = dry_run(built, catalog, load_config(config, catalog),
                     IncomingEvent(event["id"], "stripe.invoice.paid", event))
    (step,) = report["steps"]
    assert step["request"] == {"kind": "file", "mode": "append", "path": "books/ledger.csv",
                               "folder_setting": "folder", "bytes": len(f"evt_{API_KEY},1250\n"),
                               "encoding": "utf-8", "content": "evt_[REDACTED],1250\n"}
    assert step["sample_output"] == {"path": "books/ledger.csv", "bytes": len(f"evt_{API_KEY},1250\n"),
                                     "status": "appended"}
    assert list(books.iterdir()) == []
    escaping = compiled(catalog, config, recipe(path="../outside.csv"))
    with pytest.raises(FileEffectError, match="climbs out"):
        dry_run(escaping, catalog, load_config(config, catalog))


def test_workers_append_one_line_per_event_and_a_whole_file_write_replaces_it(setup, tmp_path):
    catalog, config, recipes, books = setup()
    runtime = runtime_for(catalog, config, recipes, migrated_db(tmp_path))
    with working(runtime, 2):
        for n in (1, 2, 1):  # the third is Stripe delivering the first event again
            body, headers = signed(invoice_paid_event("usd", 1000 + n, event_id=f"evt_file_{n}"))
            runtime.inbox.receive("stripe", headers, body)
        settle(runtime, {"succeeded": 2})
    assert sorted((books / "ledger.csv").read_text().splitlines()) == ["evt_file_1,1001", "evt_file_2,1002"]
    step = runtime.store.run(1)["steps"][-1]
    assert step["request"]["kind"] == "file" and step["request"]["mode"] == "append"
    assert step["output"]["status"] == "appended" and API_KEY not in json.dumps(step)
    runtime.close()

    catalog, config, recipes, books = setup(action="filedrop.write_file", path="books/latest.csv")
    (tmp_path / "second").mkdir()
    runtime = runtime_for(catalog, config, recipes, migrated_db(tmp_path / "second"))
    with working(runtime):
        body, headers = signed(invoice_paid_event("usd", 7, event_id="evt_file_3"))
        runtime.inbox.receive("stripe", headers, body)
        settle(runtime, {"succeeded": 1})
        runtime.close()
    assert (books / "latest.csv").read_text() == "evt_file_3,7"


def test_a_refused_path_fails_the_run_with_the_reason_and_writes_nothing(setup, tmp_path):
    catalog, config, recipes, books = setup(path="/etc/ledger.csv")
    runtime = runtime_for(catalog, config, recipes, migrated_db(tmp_path))
    with working(runtime):
        body, headers = signed(invoice_paid_event("usd", 5, event_id="evt_file_abs"))
        runtime.inbox.receive("stripe", headers, body)
        settle(runtime, {"failed": 1})
        runtime.close()
    run = runtime.store.list_runs()[0]
    assert "is absolute" in run["last_error"] and run["attempts"] == 1
    assert list(books.iterdir()) == []


WORKER = """
import sys, time
sys.path.insert(0, sys.argv[4])
from filedrop_connector import catalog
from ledgerlink.config import load_config
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.store import Store
cat = catalog()
rt = Runtime(cat, load_config(sys.argv[2], cat), Store(sys.argv[1]), sys.argv[3],
             Settings(lease_seconds=2.0, poll_interval=0.05))
rt.registry.reload()
WorkerPool(rt, 1).start()
time.sleep(600)
"""


def test_a_worker_killed_after_the_append_and_before_the_acknowledgement_does_not_append_twice(setup, tmp_path):
    """The step appends, then tells ``notify_url``; the worker process is killed (SIGKILL)
    while that second request waits, so the append is on disk and the step was never
    logged. The run's lease expires, another worker runs the step again with the same
    idempotency key: the host finds the key in the file's journal and appends nothing."""
    arrived, release = threading.Event(), threading.Event()
    answering = {"hold": True}
    app = Flask("notify")

    @app.post("/notify")
    def notify():
        arrived.set()
        if answering["hold"]:
            release.wait(60)
            return "", 503
        return "", 200

    with background(app) as server:
        catalog, config, recipes, books = setup(notify_url=f"{server.url}/notify")
        db = migrated_db(tmp_path)
        runtime = runtime_for(catalog, config, recipes, db, lease=2.0)
        body, headers = signed(invoice_paid_event("usd", 4200, event_id="evt_file_kill"))
        runtime.inbox.receive("stripe", headers, body)
        worker = subprocess.Popen([sys.executable, "-c", WORKER, db, str(config), str(recipes), str(HERE)],
                                  env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if not arrived.wait(60):
                worker.kill()
                raise AssertionError(worker.communicate()[1][-2000:])
            assert (books / "ledger.csv").read_text() == "evt_file_kill,4200\n"
            os.kill(worker.pid, signal.SIGKILL)
            worker.communicate(timeout=30)
            assert runtime.store.run(1)["steps"] == []  # the step was never acknowledged
            answering["hold"] = False
            release.set()
            with working(runtime):
                settle(runtime, {"succeeded": 1})
        finally:
            release.set()
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert (books / "ledger.csv").read_text() == "evt_file_kill,4200\n"
    run = runtime.store.run(1)
    assert run["attempts"] == 2
    assert run["steps"][-1]["output"]["status"] == "already_applied"
    runtime.close()
